import { Duration, Validations } from 'aws-cdk-lib';
import { ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { FilterCriteria, StartingPosition, type IFunction } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq, type DynamoEventSourceProps } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import { alarmOnAny } from './alarms.ts';

export interface TableStreamConsumerProps {
  table: ITable;
  handler: IFunction;
  /** Who consumes, as the nag reasons name it ("the events consumer's"). */
  name: string;
  /** Lambda filter criteria: a record that matches none never invokes the function. */
  filterPatterns: readonly Record<string, unknown>[];
  /** The mapping's own settings; it always starts at LATEST and reports partial batch failures. */
  mapping: Pick<DynamoEventSourceProps, 'batchSize' | 'parallelizationFactor' | 'bisectBatchOnError' | 'retryAttempts' | 'maxRecordAge'>;
  /** What records in the dead-letter queue mean: the description of its alarm. */
  givenUp: string;
  /** An alarm when the function is more than `thresholdMs` behind the table for `minutes` minutes. */
  behind?: { thresholdMs: number; minutes: number; description: string };
}

/**
 * One consumer of the table's stream: its event source mapping with a dead-letter queue, an alarm
 * on anything reaching that queue and, when asked, one on falling behind. A function, not a
 * construct: the queue and alarms are made in `scope` (ids `Failures`, `FailuresAlarm`,
 * `IteratorAgeAlarm`, so one consumer per scope), where they stood before it was shared, and keep
 * their logical ids. Returns the dead-letter queue.
 */
export function consumeTableStream(scope: Construct, props: TableStreamConsumerProps): Queue {
  const failures = new Queue(scope, 'Failures', { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) });
  Validations.of(failures).acknowledge({
    id: 'AwsSolutions-SQS3',
    reason: `This queue is itself the dead-letter destination of ${props.name} event source mapping; nothing consumes it automatically.`,
  });
  props.handler.addEventSource(
    new DynamoEventSource(props.table, {
      startingPosition: StartingPosition.LATEST,
      reportBatchItemFailures: true,
      ...props.mapping,
      onFailure: new SqsDlq(failures),
      filters: props.filterPatterns.map((pattern) => FilterCriteria.filter(pattern)),
    }),
  );
  Validations.of(props.handler).acknowledge({
    id: 'AwsSolutions-IAM5[Resource::*]',
    reason: 'dynamodb:ListStreams, granted by the event source mapping, has no resource-level permissions.',
  });

  alarmOnAny(scope, 'FailuresAlarm', failures.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) }), props.givenUp);
  if (props.behind) {
    props.handler.metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1) }).createAlarm(scope, 'IteratorAgeAlarm', {
      treatMissingData: TreatMissingData.NOT_BREACHING,
      evaluationPeriods: props.behind.minutes,
      alarmDescription: props.behind.description,
      threshold: props.behind.thresholdMs,
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
    });
  }
  return failures;
}
