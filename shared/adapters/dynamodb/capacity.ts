import type { ConsumedCapacity, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { CapacityMeter } from './table-client.ts';

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

type Listener = (reading: CapacityReading) => void;
const listeners = new Set<Listener>();
const calls = new WeakMap<ConsumedCapacity, { command: string; input: Record<string, unknown>; startedAt: number }>();

/**
 * Lets a benchmark running the handlers in-process hear every DynamoDB call they make. Returns
 * the function that stops listening.
 */
export function listenToCapacity(listener: Listener): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/**
 * Notes the API call and its timing on the client, for `capacitySink` to report with the store's
 * operation name. With nobody listening the middleware passes the call straight on.
 */
export function meterCapacity(client: DynamoDBClient): DynamoDBClient {
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (listeners.size === 0) return next(args);
      const startedAt = performance.now();
      const result = await next(args);
      const consumed = (result.output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] }).ConsumedCapacity;
      const first = Array.isArray(consumed) ? consumed[0] : consumed;
      if (first) calls.set(first, { command: context.commandName ?? 'unknown', input: args.input as Record<string, unknown>, startedAt });
      return result;
    },
    { step: 'initialize', name: 'parleyCapacityMeter' },
  );
  return client;
}

/** The `CapacityMeter` the composition root gives the store: forwards each reading to the listeners. */
export const capacitySink: CapacityMeter = (operation, consumed) => {
  if (listeners.size === 0) return;
  const call = consumed[0] && calls.get(consumed[0]);
  const reading: CapacityReading = {
    operation,
    command: call?.command ?? 'unknown',
    input: call?.input ?? {},
    consumed,
    startedAt: call?.startedAt ?? performance.now(),
    endedAt: performance.now(),
  };
  for (const listener of listeners) listener(reading);
};
