import * as ec2 from 'aws-cdk-lib/aws-ec2';
import type { Construct } from 'constructs';

/**
 * A VPC for Tollgate: 2 AZs, public subnets (ALB/NAT only), private subnets with egress,
 * free S3/DynamoDB gateway endpoints and VPC flow logs (rejected traffic).
 */
export function createVpc(scope: Construct, id: string, natGateways: number): ec2.Vpc {
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
      rejected: { trafficType: ec2.FlowLogTrafficType.REJECT },
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
