import { randomUUID } from 'node:crypto';
import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import type {
  DeleteCommandInput,
  DeleteCommandOutput,
  GetCommandInput,
  GetCommandOutput,
  PutCommandInput,
  PutCommandOutput,
  QueryCommandInput,
  QueryCommandOutput,
  TransactWriteCommandInput,
  UpdateCommandInput,
  UpdateCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { unavailable } from '#shared/errors.ts';
import type { DynamoDbApi } from './dynamodb-api.ts';
import type { Item, Key } from './entities/entity.ts';
import { STORE_RETRY, backoffMs, cancellationCodes, delay, errorName, isConditionFailure, withStoreRetries } from './store-errors.ts';

/** A call as it was sent: the API call (`PutItemCommand`), its input as the store wrote it (plain values), and when. */
export interface MeteredCall {
  command: string;
  input: Record<string, unknown>;
  startedAt: number;
}

/**
 * Receives the capacity every call consumed (`ReturnConsumedCapacity: INDEXES`): benchmarks add it
 * up. A write whose condition failed comes with its error instead (it still costs units in AWS).
 */
export type CapacityMeter = (operation: string, consumed: ConsumedCapacity[], call: MeteredCall, conditionFailure?: unknown) => void;

/** A request's own fields: the client adds the table and asks for the capacity consumed. */
type Input<T> = Omit<T, 'TableName' | 'ReturnConsumedCapacity'>;
/** An answer as the document client gave it (items as plain values), without the SDK's metadata. */
type Output<T> = Omit<T, '$metadata'>;
type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
type WriteRequest = { PutRequest: { Item: Item } } | { DeleteRequest: { Key: Key } };
type Plain = Record<string, any>;

/** The document client's marshalling, which the stores were written against: undefined attributes left out. */
const toWire = (values: Plain): Plain => marshall(values, { removeUndefinedValues: true });
const fromWire = (values: any): Item => unmarshall(values);
/** A batch's put or delete with its item or key converted by `f`. */
const writeWith = (f: (v: Plain) => Plain) => (r: Plain): WriteRequest => (r.PutRequest ? { PutRequest: { Item: f(r.PutRequest.Item) } } : { DeleteRequest: { Key: f(r.DeleteRequest.Key) as Key } });

/** A request with its item, key and value fields marshalled (the rest are names and expressions, sent as they are). */
function wireRequest(input: Plain): Plain {
  const out = { ...input };
  for (const field of ['Item', 'Key', 'ExpressionAttributeValues', 'ExclusiveStartKey']) if (out[field]) out[field] = toWire(out[field]);
  return out;
}

/** Binary attribute values go as base64, as the SDK sends them (a Buffer's own toJSON is not that). */
function binaryAsBase64(this: Plain, key: string, value: unknown): unknown {
  const raw: unknown = this[key];
  return ArrayBuffer.isView(raw) ? Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') : value;
}

/**
 * The one way the stores reach the table. Every call asks for the capacity it consumed and
 * reports it to the meter under the store's name for it; a busy store (throttling, a conflicting
 * transaction) is retried and then answered `unavailable`; a fault never shows DynamoDB's text.
 * A batch's unprocessed keys or items are retried under the same policy, with backoff and a limit.
 * Requests and answers are in plain values, marshalled here as the SDK's document client did, on
 * the functions' own DynamoDB client (dynamodb-api.ts), which a function loads in a fraction of
 * the SDK's time.
 */
export class TableClient {
  constructor(
    private readonly api: DynamoDbApi,
    readonly tableName: string,
    private readonly meter: CapacityMeter = () => undefined,
    private readonly sleep: (ms: number) => Promise<unknown> = delay,
  ) {}

  /**
   * Sends `wire` (the request marshalled) as `operation`, retried under the store's policy, and
   * gives DynamoDB's answer as it came; the meter hears the call with `input`, the request as the
   * store wrote it.
   */
  private async run(op: string, operation: string, input: Plain, wire: Plain): Promise<Plain> {
    const body = JSON.stringify({ ...wire, ReturnConsumedCapacity: 'INDEXES' }, binaryAsBase64);
    const call: MeteredCall = { command: `${operation}Command`, input: { ...input, ReturnConsumedCapacity: 'INDEXES' }, startedAt: 0 };
    const out = await withStoreRetries(
      op,
      () => {
        call.startedAt = performance.now();
        return this.api.send(operation, body);
      },
      this.sleep,
    ).catch((err: unknown) => {
      if (isConditionFailure(err)) this.meter(op, [], call, err);
      throw err;
    });
    const consumed = out.ConsumedCapacity as ConsumedCapacity | ConsumedCapacity[] | undefined;
    if (consumed) this.meter(op, Array.isArray(consumed) ? consumed : [consumed], call);
    return out;
  }

  /** A request on the table, its answer's items and keys unmarshalled as the document client's were. */
  private async single<T>(op: string, operation: string, input: Plain): Promise<Output<T>> {
    const full = { ...input, TableName: this.tableName };
    const out = await this.run(op, operation, full, wireRequest(full));
    for (const field of ['Item', 'Attributes', 'LastEvaluatedKey']) if (out[field]) out[field] = fromWire(out[field]);
    if (out.Items) out.Items = out.Items.map(fromWire);
    return out as Output<T>;
  }

  get(op: string, input: Input<GetCommandInput>) {
    return this.single<GetCommandOutput>(op, 'GetItem', input);
  }

  put(op: string, input: Input<PutCommandInput>) {
    return this.single<PutCommandOutput>(op, 'PutItem', input);
  }

  update(op: string, input: Input<UpdateCommandInput>) {
    return this.single<UpdateCommandOutput>(op, 'UpdateItem', input);
  }

  delete(op: string, input: Input<DeleteCommandInput>) {
    return this.single<DeleteCommandOutput>(op, 'DeleteItem', input);
  }

  query(op: string, input: Input<QueryCommandInput>) {
    return this.single<QueryCommandOutput>(op, 'Query', input);
  }

  /** Every item of a query, page after page. */
  async queryAll(op: string, input: Input<QueryCommandInput>): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const out = await this.query(op, { ...input, ...(start && { ExclusiveStartKey: start }) });
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }

  /** How many items a query matches, page after page. */
  async countAll(op: string, input: Input<QueryCommandInput>): Promise<number> {
    let count = 0;
    let start: Item | undefined;
    do {
      const out = await this.query(op, { ...input, Select: 'COUNT', ...(start && { ExclusiveStartKey: start }) });
      count += out.Count ?? 0;
      start = out.LastEvaluatedKey;
    } while (start);
    return count;
  }

  /**
   * A transaction over items of this table (their `TableName` is filled in): `true` when it
   * applied, else the cancellation code of each item, in order (a condition that did not hold is
   * `ConditionalCheckFailed`). A busy store is retried, then `unavailable`.
   */
  async transact(op: string, items: TransactItem[]): Promise<true | string[]> {
    const each = (f: (request: Plain) => Plain) => items.map((item) => Object.fromEntries(Object.entries(item).map(([kind, request]) => [kind, f({ ...request, TableName: this.tableName })])));
    try {
      // One token for every attempt, as the SDK sends it: an attempt whose answer was lost (a
      // dropped socket, a timeout) applied, and its retry must answer as it did, not fail on the
      // conditions the first attempt's own writes now break. DynamoDB keeps a token 10 minutes.
      await this.run(op, 'TransactWriteItems', { TransactItems: each((r) => r) }, { TransactItems: each(wireRequest), ClientRequestToken: randomUUID() });
      return true;
    } catch (err) {
      if (errorName(err) === 'TransactionCanceledException') return cancellationCodes(err);
      throw err;
    }
  }

  /**
   * Reads the keys, 100 a request; keys left unprocessed are asked for again with backoff. Past
   * the limit the store is `unavailable`, unless `partial`: then what was found is the answer.
   */
  async batchGet(op: string, keys: readonly Key[], o: { consistent: boolean; projection?: string; partial?: boolean }): Promise<Item[]> {
    const t = this.tableName;
    const found: Item[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      let pending: Item[] = keys.slice(i, i + 100);
      for (let attempt = 1; ; attempt++) {
        const request = { Keys: pending, ConsistentRead: o.consistent, ...(o.projection && { ProjectionExpression: o.projection }) };
        const out = await this.run(op, 'BatchGetItem', { RequestItems: { [t]: request } }, { RequestItems: { [t]: { ...request, Keys: pending.map(toWire) } } });
        found.push(...(out.Responses?.[t] ?? []).map(fromWire));
        pending = (out.UnprocessedKeys?.[t]?.Keys ?? []).map(fromWire);
        if (pending.length === 0) break;
        if (attempt >= STORE_RETRY.attempts) {
          if (o.partial) break;
          throw unavailable(STORE_RETRY.retryAfterSeconds);
        }
        await this.sleep(backoffMs(attempt));
      }
    }
    return found;
  }

  /** Puts and deletes, 25 a request; items left unprocessed are sent again with backoff, then `unavailable`. */
  async batchWrite(op: string, requests: readonly WriteRequest[]): Promise<void> {
    const t = this.tableName;
    for (let i = 0; i < requests.length; i += 25) {
      let pending = requests.slice(i, i + 25);
      for (let attempt = 1; ; attempt++) {
        const out = await this.run(op, 'BatchWriteItem', { RequestItems: { [t]: pending } }, { RequestItems: { [t]: pending.map(writeWith(toWire)) } });
        pending = (out.UnprocessedItems?.[t] ?? []).map(writeWith(fromWire));
        if (pending.length === 0) break;
        if (attempt >= STORE_RETRY.attempts) throw unavailable(STORE_RETRY.retryAfterSeconds);
        await this.sleep(backoffMs(attempt));
      }
    }
  }
}

/** The result of a conditional write, or `false` when its condition did not hold (a business outcome). */
export async function unlessConditionFails<T>(write: Promise<T>): Promise<T | false> {
  try {
    return await write;
  } catch (err) {
    if (isConditionFailure(err)) return false;
    throw err;
  }
}
