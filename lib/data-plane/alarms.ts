import { Duration } from 'aws-cdk-lib';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as ecs from 'aws-cdk-lib/aws-ecs';
import * as elbv2 from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';
import type { DataPlaneAlarmProps } from './props.js';

/** Namespace and name of the metric the gateway emits (EMF) after each successful sync. */
export const SYNC_AGE_METRIC = { namespace: 'Tollgate', metricName: 'SyncAgeSeconds', dimension: 'DataPlane' } as const;

export interface GatewayAlarmsProps extends DataPlaneAlarmProps {
  readonly loadBalancer: elbv2.ApplicationLoadBalancer;
  readonly targetGroup: elbv2.ApplicationTargetGroup;
  readonly service: ecs.FargateService;
  readonly dataPlaneName: string;
  readonly syncInterval: Duration;
  readonly topic?: sns.ITopic;
}

/** CloudWatch alarms of the data plane: 5xx, latency, CPU, memory, healthy tasks and sync age. */
export function createGatewayAlarms(scope: Construct, p: GatewayAlarmsProps): cw.Alarm[] {
  const minute = Duration.minutes(1);
  const fiveXx = new cw.MathExpression({
    label: 'ALB + gateway 5xx',
    expression: 'FILL(elb, 0) + FILL(target, 0)',
    usingMetrics: {
      elb: p.loadBalancer.metrics.httpCodeElb(elbv2.HttpCodeElb.ELB_5XX_COUNT, { period: minute }),
      target: p.targetGroup.metrics.httpCodeTarget(elbv2.HttpCodeTarget.TARGET_5XX_COUNT, { period: minute }),
    },
    period: minute,
  });
  const syncAge = new cw.Metric({
    namespace: SYNC_AGE_METRIC.namespace,
    metricName: SYNC_AGE_METRIC.metricName,
    dimensionsMap: { [SYNC_AGE_METRIC.dimension]: p.dataPlaneName },
    statistic: cw.Stats.MAXIMUM,
    period: minute,
  });
  const specs: Array<[string, cw.IMetric, number, string, cw.ComparisonOperator?]> = [
    ['Http5xx', fiveXx, p.http5xxPerMinute ?? 10, '5xx responses from the ALB or the gateway'],
    ['Latency', p.targetGroup.metrics.targetResponseTime({ statistic: cw.Stats.p(99), period: Duration.minutes(5) }),
      (p.p99Latency ?? Duration.seconds(30)).toSeconds(), 'p99 time to first byte from the gateway'],
    ['Cpu', p.service.metricCpuUtilization({ period: Duration.minutes(5) }), p.cpuPercent ?? 85, 'gateway CPU utilisation'],
    ['Memory', p.service.metricMemoryUtilization({ period: Duration.minutes(5) }), p.memoryPercent ?? 85, 'gateway memory utilisation'],
    ['HealthyTasks', p.targetGroup.metrics.healthyHostCount({ period: minute }), 1, 'no healthy gateway task behind the ALB',
      cw.ComparisonOperator.LESS_THAN_THRESHOLD],
    ['SyncAge', syncAge, (p.maxSyncAge ?? Duration.seconds(p.syncInterval.toSeconds() * 3)).toSeconds(),
      'seconds since the last successful sync with the control plane (Tollgate/SyncAgeSeconds)'],
  ];
  return specs.map(([id, metric, threshold, what, op]) => {
    const alarm = new cw.Alarm(scope, `${id}Alarm`, {
      metric,
      threshold,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      comparisonOperator: op ?? cw.ComparisonOperator.GREATER_THAN_THRESHOLD,
      treatMissingData: id === 'HealthyTasks' ? cw.TreatMissingData.BREACHING : cw.TreatMissingData.NOT_BREACHING,
      alarmDescription: `Tollgate data plane ${p.dataPlaneName}: ${what}`,
    });
    if (p.topic) {
      alarm.addAlarmAction(new cwActions.SnsAction(p.topic));
      alarm.addOkAction(new cwActions.SnsAction(p.topic));
    }
    return alarm;
  });
}
