import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { EventBus, type IEventBus } from 'aws-cdk-lib/aws-events';
import type { Function as LambdaFunction } from 'aws-cdk-lib/aws-lambda';
import type { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { Queue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { StackSecret } from './stack-secret.ts';
import { consumeTableStream } from './stream-consumer.ts';
import { ENV } from '#shared/env.ts';
import { eventsFilterPatterns } from '#shared/adapters/dynamodb/event-stream.ts';

export interface OutboundEventsProps {
  table: ITable;
  /** The outbound-events stream consumer (functions/stream-events.ts). */
  handler: LambdaFunction;
  /** Every function by name: those the permission table lets read the VAPID seed get its ARN. */
  functions: ReadonlyMap<string, LambdaFunction>;
  /** An existing bus to publish to (`-c parley:eventBusName=`); the stack creates one otherwise. */
  eventBusName?: string;
  /** The VAPID `sub` contact (`-c parley:vapidSubject=mailto:…`). */
  vapidSubject?: string;
}

/**
 * Outbound events and notifications: the bus (or the one named at deploy), the events consumer's
 * own event source mapping on the table's stream with its dead-letter queue and alarms, and the
 * secret the VAPID key pair is derived from. Grants are this consumer's and nothing more.
 */
export class OutboundEvents extends Construct {
  readonly bus: IEventBus;
  readonly failures: Queue;
  readonly vapidSeed: Secret;

  constructor(scope: Construct, id: string, props: OutboundEventsProps) {
    super(scope, id);
    const { table, handler } = props;
    this.bus = props.eventBusName ? EventBus.fromEventBusName(this, 'Bus', props.eventBusName) : new EventBus(this, 'Bus', { description: 'Parley: every stored change and notification request (source parley)' });

    this.vapidSeed = new StackSecret(this, 'VapidSeed', {
      name: 'vapid-seed',
      description: 'Parley: the random seed the Web Push (VAPID) key pair is derived from',
      // Browser subscriptions are bound to the public key: losing the seed ends every one of them.
      removalPolicy: RemovalPolicy.RETAIN,
      noRotationReason: 'The VAPID key pair is bound into every browser push subscription: rotating it would silently end them all (users would have to subscribe again).',
      functions: props.functions,
      arnVariable: ENV.vapidSecretArn,
      ...(props.vapidSubject && { environment: { [ENV.vapidSubject]: props.vapidSubject } }),
    }).secret;
    // The grants (the bus, the seed, the table) come from the permission table.
    handler.addEnvironment(ENV.eventBusName, this.bus.eventBusName);

    this.failures = consumeTableStream(this, {
      table,
      handler,
      name: "the events consumer's",
      filterPatterns: eventsFilterPatterns,
      mapping: {
        batchSize: 100,
        // Order per room: one batch per shard at a time, and no bisecting (the handler stops at its first failure).
        parallelizationFactor: 1,
        bisectBatchOnError: false,
        // A bus that is down for a while must not lose events: retry for a day before the DLQ.
        retryAttempts: 10_000,
        maxRecordAge: Duration.days(1),
      },
      givenUp: 'The events consumer gave up on records: some outbound events and notifications were not published.',
      behind: { thresholdMs: 300_000, minutes: 5, description: 'Outbound events are more than 5 minutes behind the table (the bus refuses them, or the consumer fails).' },
    });
  }
}
