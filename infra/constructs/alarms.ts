import { ComparisonOperator, TreatMissingData, type Alarm, type Metric } from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';

/**
 * An alarm on anything at all in one period of `metric` (an error, a throttle, a record given up
 * on); a period with no data is no trouble.
 */
export function alarmOnAny(scope: Construct, id: string, metric: Metric, description: string): Alarm {
  return metric.createAlarm(scope, id, {
    evaluationPeriods: 1,
    threshold: 1,
    comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
    treatMissingData: TreatMissingData.NOT_BREACHING,
    alarmDescription: description,
  });
}
