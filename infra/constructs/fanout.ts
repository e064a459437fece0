import { Duration } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { streamFilterPatterns } from '#shared/adapters/dynamodb/stream-filters.ts';
import { FANOUT_EVENT_SOURCE } from '#infra/stream-sources.ts';
import { ENV } from '#shared/env.ts';
import { alarmOnAny } from './alarms.ts';
import { consumeTableStream } from './stream-consumer.ts';

/**
 * Feeds the table's stream to the fan-out function, and raises alarms when fan-out falls behind
 * or gives up on records.
 */
export class StreamFanout extends Construct {
  /** Where the event source mapping sends the metadata of batches it gave up on. */
  readonly failures: Queue;

  constructor(scope: Construct, id: string, props: { table: ITable; handler: IFunction & { addEnvironment(key: string, value: string): unknown }; worker: IFunction }) {
    super(scope, id);
    const { table, handler, worker } = props;
    // Invoked synchronously by the fan-out (its grant comes from the permission table): a failed
    // worker fails the fan-out's record, which the mapping retries and finally sends to `failures`.
    // Lambda's own dead-letter queues and destinations apply to asynchronous invocations only.
    handler.addEnvironment(ENV.fanoutWorkerFunction, worker.functionName);

    this.failures = consumeTableStream(this, {
      table,
      handler,
      name: 'the stream',
      filterPatterns: streamFilterPatterns,
      mapping: {
        // Order per partition key (a room's, a user's, a connection's) holds across parallel batches.
        batchSize: FANOUT_EVENT_SOURCE.batchSize,
        parallelizationFactor: FANOUT_EVENT_SOURCE.parallelizationFactor,
        bisectBatchOnError: true,
        retryAttempts: FANOUT_EVENT_SOURCE.retryAttempts,
        // Live events this old help nobody; clients catch up by `seq` over HTTP.
        maxRecordAge: Duration.minutes(10),
      },
      givenUp: 'Stream fan-out gave up on records: some live events were not delivered.',
      behind: { thresholdMs: 30_000, minutes: 3, description: 'Stream fan-out is more than 30 s behind the table: live events arrive late.' },
    });

    const perMinute = { period: Duration.minutes(1) };
    alarmOnAny(this, 'WorkerErrorsAlarm', worker.metricErrors(perMinute), 'A fan-out worker failed: a large room\'s event was retried, or given up on (then also in the failures queue).');
    alarmOnAny(this, 'WorkerThrottlesAlarm', worker.metricThrottles(perMinute), 'Fan-out workers are throttled (account concurrency): large rooms get their events late.');
    alarmOnAny(this, 'ErrorsAlarm', handler.metricErrors(perMinute), 'The stream fan-out function failed whole invocations.');
  }
}
