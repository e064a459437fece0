import type { ConsumedCapacity, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, type DeleteCommand, DynamoDBDocumentClient, type PutCommand, QueryCommand, type UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unavailable } from '#shared/errors.ts';
import { STORE_RETRY, withStoreRetries, isConditionFailure } from './store-errors.ts';
export { STORE_RETRY, cancellationCodes, errorName, isConditionFailure, withStoreRetries } from './store-errors.ts';
import { TABLE } from './table.ts';

/** Receives the capacity every call consumed (`ReturnConsumedCapacity: INDEXES`): benchmarks add it up. */
export type { CapacityMeter } from './client.ts';
import type { CapacityMeter } from './client.ts';

export type Item = Record<string, unknown>;

const INTERNAL = new Set<string>([TABLE.partitionKey, TABLE.sortKey, TABLE.gsi1.partitionKey, TABLE.gsi1.sortKey, TABLE.entityAttribute, TABLE.ttlAttribute]);

/** An item without its keys and bookkeeping attributes: the record the domain knows. */
export function recordOf<T>(item: Item): T {
  return Object.fromEntries(Object.entries(item).filter(([k]) => !INTERNAL.has(k))) as T;
}

export const epochSeconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);
/**
 * What every adapter over the one table shares: the document client, metering of consumed
 * capacity, conditional writes, batch reads and paged queries.
 */
export abstract class TableClient {
  protected readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    protected readonly tableName: string,
    private readonly meter: CapacityMeter = () => undefined,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  /**
   * Every call to the table goes through here: busy-store retries, error decoding
   * (`withStoreRetries`) and metering of the capacity consumed.
   */
  protected async run<T extends { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] }>(op: string, send: () => Promise<T>): Promise<T> {
    const out = await withStoreRetries(op, send);
    const consumed = out.ConsumedCapacity;
    if (consumed) this.meter(op, Array.isArray(consumed) ? consumed : [consumed]);
    return out;
  }

  /** A conditional write: the attributes it returned if it applied, `false` if its condition did not hold. */
  protected async conditional(op: string, command: UpdateCommand | PutCommand | DeleteCommand): Promise<Item | false> {
    try {
      const out = await this.run(op, () => this.doc.send(command as UpdateCommand));
      return (out.Attributes ?? {}) as Item;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  /** Whether a conditional write applied. */
  protected async applies(op: string, command: UpdateCommand | PutCommand | DeleteCommand): Promise<boolean> {
    return (await this.conditional(op, command)) !== false;
  }

  /** BatchGetItem in chunks of 100, retrying unprocessed keys. */
  protected async batchGet(op: string, keyList: Item[], consistent: boolean): Promise<Item[]> {
    const found: Item[] = [];
    for (let i = 0; i < keyList.length; i += 100) {
      let pending = keyList.slice(i, i + 100);
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 8) throw unavailable(STORE_RETRY.retryAfterSeconds);
        if (attempt > 0) await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
        const out = await this.run(op, () =>
          this.doc.send(
            new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending, ConsistentRead: consistent } }, ReturnConsumedCapacity: 'INDEXES' }),
          ),
        );
        found.push(...(out.Responses?.[this.tableName] ?? []));
        pending = (out.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Item[];
      }
    }
    return found;
  }

  /** Every item of a key condition, page after page. */
  protected async queryAll(
    op: string,
    q: { KeyConditionExpression: string; ExpressionAttributeValues: Item; ProjectionExpression?: string; ExpressionAttributeNames?: Record<string, string> },
  ): Promise<Item[]> {
    const items: Item[] = [];
    let start: Item | undefined;
    do {
      const out = await this.run(op, () => this.doc.send(new QueryCommand({ TableName: this.tableName, ...q, ExclusiveStartKey: start, ReturnConsumedCapacity: 'INDEXES' })));
      items.push(...(out.Items ?? []));
      start = out.LastEvaluatedKey;
    } while (start);
    return items;
  }
}
