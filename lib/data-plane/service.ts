import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ec2 from 'aws-cdk-lib/aws-ec2';
import * as ecs from 'aws-cdk-lib/aws-ecs';
import * as logs from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { acknowledge } from '../nag.js';

export const GATEWAY_PORT = 8787;

/**
 * Writable directory of the gateway (the telemetry spool), on the task's ephemeral storage. The image
 * declares it as a VOLUME owned by the non-root user, so Fargate's bind mount keeps that ownership.
 */
export const GATEWAY_DATA_DIR = '/var/lib/tollgate';

export interface GatewayServiceProps {
  readonly vpc: ec2.IVpc;
  readonly subnets: ec2.SubnetSelection;
  readonly image: ecs.ContainerImage;
  readonly cpuArchitecture: ecs.CpuArchitecture;
  readonly cpu: number;
  readonly memoryMiB: number;
  readonly desiredCount: number;
  readonly drainTimeout: Duration;
  readonly environment: Record<string, string>;
  readonly secrets: Record<string, ecs.Secret>;
  readonly removalPolicy: RemovalPolicy;
}

/** ECS Fargate service running the gateway container: circuit-breaker rollback, graceful draining, read-only root FS. */
export class GatewayService extends Construct {
  readonly cluster: ecs.Cluster;
  readonly taskDefinition: ecs.FargateTaskDefinition;
  readonly service: ecs.FargateService;
  readonly logGroup: logs.LogGroup;

  constructor(scope: Construct, id: string, props: GatewayServiceProps) {
    super(scope, id);
    this.cluster = new ecs.Cluster(this, 'Cluster', {
      vpc: props.vpc,
      containerInsightsV2: ecs.ContainerInsights.ENHANCED,
    });
    this.taskDefinition = new ecs.FargateTaskDefinition(this, 'Task', {
      cpu: props.cpu,
      memoryLimitMiB: props.memoryMiB,
      runtimePlatform: {
        cpuArchitecture: props.cpuArchitecture,
        operatingSystemFamily: ecs.OperatingSystemFamily.LINUX,
      },
    });
    this.logGroup = new logs.LogGroup(this, 'Logs', {
      retention: logs.RetentionDays.ONE_MONTH,
      removalPolicy: props.removalPolicy,
    });
    this.taskDefinition.addVolume({ name: 'tmp' });
    this.taskDefinition.addVolume({ name: 'data' });
    const container = this.taskDefinition.addContainer('gateway', {
      image: props.image,
      essential: true,
      environment: props.environment,
      secrets: props.secrets,
      portMappings: [{ containerPort: GATEWAY_PORT, name: 'http' }],
      logging: ecs.LogDrivers.awsLogs({ streamPrefix: 'gateway', logGroup: this.logGroup }),
      readonlyRootFilesystem: true,
      linuxParameters: new ecs.LinuxParameters(this, 'Linux', { initProcessEnabled: true }),
      // SIGTERM → the gateway stops accepting, finishes in-flight streams, exits; SIGKILL after this.
      stopTimeout: props.drainTimeout.plus(Duration.seconds(10)),
      healthCheck: {
        command: [
          'CMD',
          'node',
          '-e',
          `fetch('http://127.0.0.1:${GATEWAY_PORT}/v1/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))`,
        ],
        interval: Duration.seconds(15),
        timeout: Duration.seconds(5),
        retries: 3,
        startPeriod: Duration.seconds(20),
      },
    });
    container.addMountPoints(
      { containerPath: '/tmp', sourceVolume: 'tmp', readOnly: false },
      { containerPath: GATEWAY_DATA_DIR, sourceVolume: 'data', readOnly: false },
    );
    acknowledge(
      this.taskDefinition,
      'Only non-secret settings (URLs, modes, intervals) are plain environment variables; the data-plane token and the cache AUTH token are injected from Secrets Manager.',
      'AwsSolutions-ECS2',
    );

    const securityGroup = new ec2.SecurityGroup(this, 'SecurityGroup', {
      vpc: props.vpc,
      description: 'Tollgate gateway tasks: ALB in; HTTPS, cache and control plane out',
      allowAllOutbound: false,
    });
    securityGroup.addEgressRule(ec2.Peer.anyIpv4(), ec2.Port.tcp(443), 'LLM providers, control plane, AWS APIs (HTTPS)');
    this.service = new ecs.FargateService(this, 'Service', {
      cluster: this.cluster,
      taskDefinition: this.taskDefinition,
      desiredCount: props.desiredCount,
      vpcSubnets: props.subnets,
      securityGroups: [securityGroup],
      assignPublicIp: false,
      minHealthyPercent: 100,
      maxHealthyPercent: 200,
      circuitBreaker: { enable: true, rollback: true },
      healthCheckGracePeriod: Duration.seconds(60),
      propagateTags: ecs.PropagatedTagSource.SERVICE,
    });
  }
}
