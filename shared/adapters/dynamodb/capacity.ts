import type { AttributeValue, ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
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
 * The `CapacityMeter` the table client calls (with the store's operation name and the call as
 * sent) that hands `listener` the whole reading. Without a listener the composition root installs
 * nothing.
 */
export function meterCapacity(listener: CapacityListener): CapacityMeter {
  return (operation, consumed, call, failure) =>
    listener({
      operation,
      command: call.command,
      input: call.input,
      consumed,
      // The item a failed condition found comes as DynamoDB sent it (ALL_OLD), in attribute values.
      ...(failure !== undefined && { conditionFailed: { writeUnits: failedWriteUnits(call.input, (failure as { Item?: Record<string, AttributeValue> }).Item) } }),
      startedAt: call.startedAt,
      endedAt: performance.now(),
    });
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
