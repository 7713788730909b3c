import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { FactName } from 'aws-cdk-lib/region-info';
import type * as acm from 'aws-cdk-lib/aws-certificatemanager';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.js';

export interface GatewayLoadBalancerProps {
  readonly vpc: ec2.IVpc;
  readonly internetFacing: boolean;
  readonly subnets: ec2.SubnetSelection;
  readonly certificate?: acm.ICertificate;
  readonly allowedCidrs: string[];
  readonly idleTimeout: Duration;
  readonly accessLogs: s3.IBucket;
}

/** The gateway ALB: HTTPS (with HTTP→HTTPS redirect) when a certificate is given, access logs, least-privilege ingress. */
export class GatewayLoadBalancer extends Construct {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly listener: elbv2.ApplicationListener;
  readonly port: number;
  readonly scheme: 'http' | 'https';

  constructor(scope: Construct, id: string, props: GatewayLoadBalancerProps) {
    super(scope, id);
    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Tollgate gateway ALB: callers in, gateway tasks out',
      allowAllOutbound: false,
    });
    this.loadBalancer = new elbv2.ApplicationLoadBalancer(this, 'Resource', {
      vpc: props.vpc,
      internetFacing: props.internetFacing,
      vpcSubnets: props.subnets,
      securityGroup,
      dropInvalidHeaderFields: true,
      idleTimeout: props.idleTimeout,
    });
    enableAccessLogs(this.loadBalancer, props.accessLogs, 'alb');

    this.scheme = props.certificate ? 'https' : 'http';
    this.port = props.certificate ? 443 : 80;
    this.listener = props.certificate
      ? this.loadBalancer.addListener('Https', {
          port: 443,
          protocol: elbv2.ApplicationProtocol.HTTPS,
          certificates: [props.certificate],
          sslPolicy: elbv2.SslPolicy.RECOMMENDED_TLS,
          open: false,
        })
      : this.loadBalancer.addListener('Http', { port: 80, protocol: elbv2.ApplicationProtocol.HTTP, open: false });
    if (props.certificate) {
      this.loadBalancer.addRedirect({ sourcePort: 80, targetPort: 443, open: false });
    }

    for (const cidr of props.allowedCidrs) {
      const peer = cidr.includes(':') ? ec2.Peer.ipv6(cidr) : ec2.Peer.ipv4(cidr);
      securityGroup.addIngressRule(peer, ec2.Port.tcp(this.port), `Tollgate callers (${this.scheme})`);
      if (props.certificate) securityGroup.addIngressRule(peer, ec2.Port.tcp(80), 'Tollgate callers (redirect to https)');
    }
    if (props.allowedCidrs.some((c) => Token.isUnresolved(c))) {
      acknowledge(
        securityGroup,
        'Ingress is limited to the listener ports from the VPC CIDR, a deploy-time value cdk-nag cannot resolve (it is not 0.0.0.0/0).',
        'AwsSolutions-EC23',
      );
    }
    if (props.allowedCidrs.some((c) => c === '0.0.0.0/0' || c === '::/0')) {
      acknowledge(
        securityGroup,
        'The gateway ALB was made internet-facing on purpose (publicLoadBalancer: true); only the listener ports are open, and callers authenticate with Tollgate API keys.',
        'AwsSolutions-EC23',
      );
    }
  }

  /** Add the gateway service as the target with the `/v1/health` health check. */
  addGatewayTarget(target: elbv2.IApplicationLoadBalancerTarget, port: number, drain: Duration): elbv2.ApplicationTargetGroup {
    return this.listener.addTargets('Gateway', {
      port,
      protocol: elbv2.ApplicationProtocol.HTTP,
      targets: [target],
      deregistrationDelay: drain,
      healthCheck: {
        path: '/v1/health',
        healthyHttpCodes: '200',
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        healthyThresholdCount: 2,
        unhealthyThresholdCount: 3,
      },
    });
  }
}

/**
 * ALB access logs. `logAccessLogs` needs a concrete region (to pick the ELB log-delivery account); for
 * environment-agnostic stacks the account comes from a region mapping (FindInMap) at deploy time instead.
 */
function enableAccessLogs(lb: elbv2.ApplicationLoadBalancer, bucket: s3.IBucket, prefix: string): void {
  const stack = Stack.of(lb);
  if (!Token.isUnresolved(stack.region)) {
    lb.logAccessLogs(bucket, prefix);
    return;
  }
  lb.setAttribute('access_logs.s3.enabled', 'true');
  lb.setAttribute('access_logs.s3.bucket', bucket.bucketName);
  lb.setAttribute('access_logs.s3.prefix', prefix);
  const objects = bucket.arnForObjects(`${prefix}/AWSLogs/${stack.account}/*`);
  bucket.addToResourcePolicy(new iam.PolicyStatement({
    actions: ['s3:PutObject'],
    principals: [new iam.AccountPrincipal(stack.regionalFact(FactName.ELBV2_ACCOUNT))],
    resources: [objects],
  }));
  bucket.addToResourcePolicy(new iam.PolicyStatement({
    actions: ['s3:PutObject'],
    principals: [new iam.ServicePrincipal('logdelivery.elasticloadbalancing.amazonaws.com')],
    resources: [objects],
  }));
  // The bucket policy must exist before the ALB validates its access-log destination.
  const policy = bucket.policy;
  if (policy) lb.node.addDependency(policy);
}
