import type { ConsumedCapacity, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { CapacityMeter } from './client.ts';

/** One DynamoDB call as a listener sees it: the store operation that made it and what it consumed. */
export interface CapacityReading {
  /** The store's name for the call, e.g. `putMessage`. */
  operation: string;
  /** The API call, e.g. `PutItemCommand`: tells reads from writes. */
  command: string;
  /** The request as sent (keys, `ConsistentRead`), for whoever needs to explain a figure. */
  input: Record<string, unknown>;
  consumed: ConsumedCapacity[];
  /** `performance.now()` when the call was sent and when its answer was back. */
  startedAt: number;
  endedAt: number;
}

export type CapacityListener = (reading: CapacityReading) => void;

/**
 * Meters `client` for `listener`: a middleware notes each API call's command, input and timing,
 * and the returned `CapacityMeter` (which the stores call with their operation name) hands the
 * listener the whole reading. Without a listener the composition root installs nothing.
 */
export function meterCapacity(client: DynamoDBClient, listener: CapacityListener): CapacityMeter {
  const calls = new WeakMap<ConsumedCapacity, { command: string; input: Record<string, unknown>; startedAt: number }>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const startedAt = performance.now();
      const result = await next(args);
      const consumed = (result.output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] }).ConsumedCapacity;
      const first = Array.isArray(consumed) ? consumed[0] : consumed;
      if (first) calls.set(first, { command: context.commandName ?? 'unknown', input: args.input as Record<string, unknown>, startedAt });
      return result;
    },
    { step: 'initialize', name: 'parleyCapacityMeter', override: true },
  );
  return (operation, consumed) => {
    const call = consumed[0] && calls.get(consumed[0]);
    listener({
      operation,
      command: call?.command ?? 'unknown',
      input: call?.input ?? {},
      consumed,
      startedAt: call?.startedAt ?? performance.now(),
      endedAt: performance.now(),
    });
  };
}
