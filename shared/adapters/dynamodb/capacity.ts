import type { AttributeValue, ConsumedCapacity, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { CapacityMeter } from './client.ts';
import { isConditionFailure } from './store-errors.ts';

/** One DynamoDB call as a listener sees it: the store operation that made it and what it consumed. */
export interface CapacityReading {
  /** The store's name for the call, e.g. `putMessage`. */
  operation: string;
  /** The API call, e.g. `PutItemCommand`: tells reads from writes. */
  command: string;
  /** The request as sent (keys, `ConsistentRead`), for whoever needs to explain a figure. */
  input: Record<string, unknown>;
  consumed: ConsumedCapacity[];
  /**
   * Set when the write's condition did not hold: DynamoDB reports no capacity then, yet AWS
   * charges the write units of the larger of the item written and the item found (at least 1).
   */
  conditionFailed?: { writeUnits: number };
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
  const calls = new WeakMap<object, { command: string; input: Record<string, unknown>; startedAt: number }>();
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const startedAt = performance.now();
      const result = await next(args).catch((err: unknown) => {
        if (isConditionFailure(err) && typeof err === 'object' && err !== null) {
          calls.set(err, { command: context.commandName ?? 'unknown', input: args.input as Record<string, unknown>, startedAt });
        }
        throw err;
      });
      const consumed = (result.output as { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] }).ConsumedCapacity;
      const first = Array.isArray(consumed) ? consumed[0] : consumed;
      if (first) calls.set(first, { command: context.commandName ?? 'unknown', input: args.input as Record<string, unknown>, startedAt });
      return result;
    },
    { step: 'initialize', name: 'parleyCapacityMeter', override: true },
  );
  return (operation, consumed, failure) => {
    if (failure !== undefined) {
      const call = calls.get(failure as object);
      const input = call?.input ?? {};
      listener({
        operation,
        command: call?.command ?? 'unknown',
        input,
        consumed: [],
        conditionFailed: { writeUnits: failedWriteUnits(input, (failure as { Item?: Record<string, AttributeValue> }).Item) },
        startedAt: call?.startedAt ?? performance.now(),
        endedAt: performance.now(),
      });
      return;
    }
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

/**
 * What AWS charges for a write whose condition failed: the units of the larger of the item sent
 * (a put's) and the item found (when the call asked for it back), at least one. An update that
 * did not ask for the item back is charged one unit here: a floor, exact for items under 1 KB.
 */
function failedWriteUnits(input: Record<string, unknown>, found: Record<string, AttributeValue> | undefined): number {
  const sent = input.Item ? itemBytes(marshall(input.Item as Record<string, unknown>, { removeUndefinedValues: true })) : 0;
  const old = found ? itemBytes(found) : 0;
  return writeUnits(Math.max(sent, old));
}

/** The write units AWS charges for an item (or index entry) of `bytes`: one per KB begun, at least one. */
export const writeUnits = (bytes: number): number => Math.max(1, Math.ceil(bytes / 1024));

/**
 * DynamoDB's item size: attribute names plus values (numbers: about one byte per two digits);
 * with `counts`, only the attributes it keeps (an index entry's projection).
 */
export function itemBytes(item: Record<string, AttributeValue>, counts: (attribute: string) => boolean = () => true): number {
  return Object.entries(item).reduce((sum, [name, value]) => (counts(name) ? sum + Buffer.byteLength(name) + valueBytes(value) : sum), 0);
}

function valueBytes(v: AttributeValue): number {
  if (v.S !== undefined) return Buffer.byteLength(v.S);
  if (v.N !== undefined) return Math.ceil(v.N.replace(/^-|\.|e.*$/gi, '').length / 2) + 1;
  if (v.B !== undefined) return v.B.byteLength;
  if (v.BOOL !== undefined || v.NULL !== undefined) return 1;
  if (v.SS) return v.SS.reduce((s, x) => s + Buffer.byteLength(x), 0);
  if (v.NS) return v.NS.reduce((s, x) => s + x.length, 0);
  if (v.L) return 3 + v.L.reduce((s, x) => s + 1 + valueBytes(x), 0);
  if (v.M) return 3 + Object.entries(v.M).reduce((s, [k, x]) => s + 1 + Buffer.byteLength(k) + valueBytes(x), 0);
  return 0;
}
