import { Duration, Validations } from 'aws-cdk-lib';
import { ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { FilterCriteria, StartingPosition, type IFunction } from 'aws-cdk-lib/aws-lambda';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { streamFilterPatterns } from '#shared/adapters/dynamodb/stream-filters.ts';

/**
 * Feeds the table's stream to the fan-out function, and raises alarms when fan-out falls behind
 * or gives up on records.
 */
export class StreamFanout extends Construct {
  /** Where the event source mapping sends the metadata of batches it gave up on. */
  readonly failures: Queue;

  constructor(scope: Construct, id: string, props: { table: ITable; handler: IFunction }) {
    super(scope, id);
    const { table, handler } = props;

    this.failures = new Queue(this, 'Failures', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    Validations.of(this.failures).acknowledge({
      id: 'AwsSolutions-SQS3',
      reason: 'This queue is itself the dead-letter destination of the stream event source mapping; nothing consumes it automatically.',
    });

    handler.addEventSource(
      new DynamoEventSource(table, {
        startingPosition: StartingPosition.LATEST,
        batchSize: 100,
        // Order per key: one concurrent batch per shard.
        parallelizationFactor: 1,
        reportBatchItemFailures: true,
        bisectBatchOnError: true,
        retryAttempts: 5,
        // Live events this old help nobody; clients catch up by `seq` over HTTP.
        maxRecordAge: Duration.minutes(10),
        onFailure: new SqsDlq(this.failures),
        filters: streamFilterPatterns.map((pattern) => FilterCriteria.filter(pattern)),
      }),
    );
    Validations.of(handler).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'dynamodb:ListStreams, granted by the event source mapping, has no resource-level permissions.',
    });

    const alarm = { evaluationPeriods: 1, treatMissingData: TreatMissingData.NOT_BREACHING };
    this.failures
      .metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(1) })
      .createAlarm(this, 'FailuresAlarm', {
        ...alarm,
        alarmDescription: 'Stream fan-out gave up on records: some live events were not delivered.',
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
    handler
      .metric('IteratorAge', { statistic: 'Maximum', period: Duration.minutes(1) })
      .createAlarm(this, 'IteratorAgeAlarm', {
        ...alarm,
        evaluationPeriods: 3,
        alarmDescription: 'Stream fan-out is more than 30 s behind the table: live events arrive late.',
        threshold: 30_000,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      });
    handler
      .metricErrors({ period: Duration.minutes(1) })
      .createAlarm(this, 'ErrorsAlarm', {
        ...alarm,
        alarmDescription: 'The stream fan-out function failed whole invocations.',
        threshold: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      });
  }
}
