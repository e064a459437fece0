import type { ConsumedCapacity, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
  type DeleteCommandInput,
  type GetCommandInput,
  type PutCommandInput,
  type QueryCommandInput,
  type TransactWriteCommandInput,
  type UpdateCommandInput,
} from '@aws-sdk/lib-dynamodb';
import { unavailable } from '#shared/errors.ts';
import type { Item, Key } from './entities/entity.ts';
import { STORE_RETRY, backoffMs, cancellationCodes, delay, errorName, isConditionFailure, withStoreRetries } from './store-errors.ts';

/** Receives the capacity every call consumed (`ReturnConsumedCapacity: INDEXES`): benchmarks add it up. */
export type CapacityMeter = (operation: string, consumed: ConsumedCapacity[]) => void;

/** A request's own fields: the client adds the table and asks for the capacity consumed. */
type Input<T> = Omit<T, 'TableName' | 'ReturnConsumedCapacity'>;
type TransactItem = NonNullable<TransactWriteCommandInput['TransactItems']>[number];
type WriteRequest = { PutRequest: { Item: Item } } | { DeleteRequest: { Key: Key } };

/**
 * The one way the stores reach the table. Every call asks for the capacity it consumed and
 * reports it to the meter under the store's name for it; a busy store (throttling, a conflicting
 * transaction) is retried and then answered `unavailable`; a fault never shows DynamoDB's text.
 * A batch's unprocessed keys or items are retried under the same policy, with backoff and a limit.
 */
export class TableClient {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    readonly tableName: string,
    private readonly meter: CapacityMeter = () => undefined,
    private readonly sleep: (ms: number) => Promise<unknown> = delay,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  private async run<T extends { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] }>(op: string, send: () => Promise<T>): Promise<T> {
    const out = await withStoreRetries(op, send, this.sleep);
    const consumed = out.ConsumedCapacity;
    if (consumed) this.meter(op, Array.isArray(consumed) ? consumed : [consumed]);
    return out;
  }

  private table<T>(input: T) {
    return { ...input, TableName: this.tableName, ReturnConsumedCapacity: 'INDEXES' as const };
  }

  get(op: string, input: Input<GetCommandInput>) {
    return this.run(op, () => this.doc.send(new GetCommand(this.table(input))));
  }

  put(op: string, input: Input<PutCommandInput>) {
    return this.run(op, () => this.doc.send(new PutCommand(this.table(input))));
  }

  update(op: string, input: Input<UpdateCommandInput>) {
    return this.run(op, () => this.doc.send(new UpdateCommand(this.table(input))));
  }

  delete(op: string, input: Input<DeleteCommandInput>) {
    return this.run(op, () => this.doc.send(new DeleteCommand(this.table(input))));
  }

  query(op: string, input: Input<QueryCommandInput>) {
    return this.run(op, () => this.doc.send(new QueryCommand(this.table(input))));
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
    const TransactItems = items.map((item) =>
      Object.fromEntries(Object.entries(item).map(([kind, request]) => [kind, { ...(request as object), TableName: this.tableName }])),
    ) as TransactItem[];
    try {
      await this.run(op, () => this.doc.send(new TransactWriteCommand({ TransactItems, ReturnConsumedCapacity: 'INDEXES' })));
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
    const found: Item[] = [];
    for (let i = 0; i < keys.length; i += 100) {
      let pending: Item[] = keys.slice(i, i + 100);
      for (let attempt = 1; ; attempt++) {
        const request = { Keys: pending, ConsistentRead: o.consistent, ...(o.projection && { ProjectionExpression: o.projection }) };
        const out = await this.run(op, () => this.doc.send(new BatchGetCommand({ RequestItems: { [this.tableName]: request }, ReturnConsumedCapacity: 'INDEXES' })));
        found.push(...(out.Responses?.[this.tableName] ?? []));
        pending = out.UnprocessedKeys?.[this.tableName]?.Keys ?? [];
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
    for (let i = 0; i < requests.length; i += 25) {
      let pending = requests.slice(i, i + 25) as WriteRequest[];
      for (let attempt = 1; ; attempt++) {
        const out = await this.run(op, () => this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: pending }, ReturnConsumedCapacity: 'INDEXES' })));
        pending = (out.UnprocessedItems?.[this.tableName] ?? []) as WriteRequest[];
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
