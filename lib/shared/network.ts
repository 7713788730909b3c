import type { RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as logs from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';

/**
 * A VPC for Tollgate: 2 AZs, public subnets (ALB/NAT only), private subnets with egress,
 * free S3/DynamoDB gateway endpoints and VPC flow logs (rejected traffic).
 */
export function createVpc(scope: Construct, id: string, natGateways: number, removalPolicy: RemovalPolicy): ec2.Vpc {
  // The flow-log group follows the construct's removal policy like every other log group.
  const flowLogs = new logs.LogGroup(scope, `${id}FlowLogs`, { retention: logs.RetentionDays.THREE_MONTHS, removalPolicy });
  return new ec2.Vpc(scope, id, {
    maxAzs: 2,
    natGateways,
    subnetConfiguration: [
      { name: 'public', subnetType: ec2.SubnetType.PUBLIC, cidrMask: 24 },
      { name: 'private', subnetType: ec2.SubnetType.PRIVATE_WITH_EGRESS, cidrMask: 22 },
    ],
    gatewayEndpoints: {
      S3: { service: ec2.GatewayVpcEndpointAwsService.S3 },
      DynamoDB: { service: ec2.GatewayVpcEndpointAwsService.DYNAMODB },
    },
    flowLogs: {
      rejected: { trafficType: ec2.FlowLogTrafficType.REJECT, destination: ec2.FlowLogDestination.toCloudWatchLogs(flowLogs) },
    },
  });
}

/** Port of an http(s) URL, or undefined when the URL is a deploy-time token or has no explicit scheme. */
export function urlPort(url: string): number | undefined {
  try {
    const u = new URL(url);
    if (u.port) return Number(u.port);
    return u.protocol === 'https:' ? 443 : u.protocol === 'http:' ? 80 : undefined;
  } catch {
    return undefined;
  }
}

/** True for an http(s) URL whose host is the task itself (a sidecar). */
export function isLoopback(url: string): boolean {
  try {
    return ['localhost', '127.0.0.1', '[::1]'].includes(new URL(url).hostname);
  } catch {
    return false;
  }
}
