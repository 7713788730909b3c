import { Duration } from 'aws-cdk-lib';
import type * as apigwv2 from 'aws-cdk-lib/aws-apigatewayv2';
import * as cw from 'aws-cdk-lib/aws-cloudwatch';
import * as cwActions from 'aws-cdk-lib/aws-cloudwatch-actions';
import type * as lambda from 'aws-cdk-lib/aws-lambda';
import type * as rds from 'aws-cdk-lib/aws-rds';
import type * as sns from 'aws-cdk-lib/aws-sns';
import type { Construct } from 'constructs';

/** Control-plane alarms: API 5xx and p99 latency, Lambda errors per function, Aurora capacity. */
export function createControlPlaneAlarms(
  scope: Construct,
  p: { api: apigwv2.HttpApi; functions: Record<string, lambda.IFunction>; cluster: rds.DatabaseCluster; topic?: sns.ITopic },
): cw.Alarm[] {
  const period = Duration.minutes(5);
  const alarms: cw.Alarm[] = [
    new cw.Alarm(scope, 'Api5xxAlarm', {
      metric: p.api.metricServerError({ period, statistic: cw.Stats.SUM }),
      threshold: 5, evaluationPeriods: 2, treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      alarmDescription: 'Tollgate control plane: API 5xx responses',
    }),
    new cw.Alarm(scope, 'ApiLatencyAlarm', {
      metric: p.api.metricLatency({ period, statistic: cw.Stats.p(99) }),
      threshold: 5000, evaluationPeriods: 3, treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      alarmDescription: 'Tollgate control plane: API p99 latency above 5 s',
    }),
    new cw.Alarm(scope, 'DatabaseCapacityAlarm', {
      metric: p.cluster.metric('ACUUtilization', { period, statistic: cw.Stats.AVERAGE }),
      threshold: 90, evaluationPeriods: 3, treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      alarmDescription: 'Tollgate control plane: Aurora at more than 90% of its maximum ACUs (raise database.maxCapacity)',
    }),
  ];
  for (const [name, fn] of Object.entries(p.functions)) {
    alarms.push(new cw.Alarm(scope, `${name}ErrorsAlarm`, {
      metric: fn.metricErrors({ period, statistic: cw.Stats.SUM }),
      threshold: 5, evaluationPeriods: 1, treatMissingData: cw.TreatMissingData.NOT_BREACHING,
      alarmDescription: `Tollgate control plane: ${name} Lambda errors`,
    }));
  }
  if (p.topic) {
    for (const a of alarms) {
      a.addAlarmAction(new cwActions.SnsAction(p.topic));
      a.addOkAction(new cwActions.SnsAction(p.topic));
    }
  }
  return alarms;
}
