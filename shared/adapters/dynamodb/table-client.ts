import type { ConsumedCapacity, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, DeleteCommand, DynamoDBDocumentClient, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { unavailable } from '#shared/errors.ts';
import { TABLE } from './table.ts';

/** Receives the capacity every call consumed (`ReturnConsumedCapacity: INDEXES`): benchmarks add it up. */
export type CapacityMeter = (operation: string, consumed: ConsumedCapacity[]) => void;

export type Item = Record<string, unknown>;

const INTERNAL = new Set<string>([TABLE.partitionKey, TABLE.sortKey, TABLE.gsi1.partitionKey, TABLE.gsi1.sortKey, TABLE.entityAttribute, TABLE.ttlAttribute]);

/** An item without its keys and bookkeeping attributes: the record the domain knows. */
export function recordOf<T>(item: Item): T {
  return Object.fromEntries(Object.entries(item).filter(([k]) => !INTERNAL.has(k))) as T;
}

export const epochSeconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);
export const errorName = (err: unknown) => (err as { name?: string }).name;
export const isConditionFailure = (err: unknown) => errorName(err) === 'ConditionalCheckFailedException';

/**
 * What a DynamoDB error means to the caller:
 * - `condition`: a business outcome (a condition did not hold; a transaction cancelled by its
 *   conditions alone), for the adapter to turn into its answer;
 * - `busy`: throttling or a conflicting transaction, nothing applied: worth retrying;
 * - `fault`: anything else (a malformed request, an item too large, a missing table): a bug or
 *   a deployment error, never a business answer, and its text is not for clients.
 */
export type StoreErrorKind = 'condition' | 'busy' | 'fault';

const BUSY_ERRORS = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'TransactionConflictException',
  'TransactionInProgressException',
]);
const CONDITION_REASONS = new Set(['ConditionalCheckFailed', 'None']);
const BUSY_REASONS = new Set(['TransactionConflict', 'ThrottlingError', 'ProvisionedThroughputExceeded', 'RequestLimitExceeded']);

/**
 * The codes of a TransactionCanceledException, one per item in order. The SDK parses
 * `CancellationReasons`; when a service leaves them out, its message still lists them
 * ("... reasons [ConditionalCheckFailed, None]").
 */
export function cancellationCodes(err: unknown): string[] {
  const reasons = (err as { CancellationReasons?: { Code?: string }[] }).CancellationReasons;
  if (Array.isArray(reasons) && reasons.length > 0) return reasons.map((r) => r?.Code ?? 'None');
  const listed = /\[([A-Za-z, ]+)\]/.exec(String((err as { message?: unknown }).message ?? ''));
  return listed ? listed[1]!.split(',').map((c) => c.trim()).filter(Boolean) : [];
}

/** Sorts a DynamoDB error into a business outcome, a retryable busy store, or a fault. */
export function classifyStoreError(err: unknown): StoreErrorKind {
  const name = errorName(err);
  if (name === 'ConditionalCheckFailedException') return 'condition';
  if (name !== undefined && BUSY_ERRORS.has(name)) return 'busy';
  if (name === 'TransactionCanceledException') {
    const codes = cancellationCodes(err);
    if (codes.some((c) => BUSY_REASONS.has(c))) return 'busy';
    if (codes.length > 0 && codes.every((c) => CONDITION_REASONS.has(c)) && codes.includes('ConditionalCheckFailed')) return 'condition';
  }
  return 'fault';
}

/** A store call that failed for a reason no client can act on; its cause stays in the logs. */
export class StoreFault extends Error {
  override name = 'StoreFault';
  constructor(op: string, cause: unknown) {
    super(`DynamoDB ${op} failed: ${errorName(cause) ?? 'error'}`, { cause });
  }
}

/** Attempts of a call the store refused as busy, and the backoff between them (doubling, full jitter). */
export const STORE_RETRY = { attempts: 4, baseMs: 25, retryAfterSeconds: 1 } as const;

/**
 * Runs `call`, retrying it while the store is busy (bounded, with backoff); a busy store after
 * the last attempt is `unavailable` with `retryAfter`, a fault becomes a `StoreFault` (no
 * DynamoDB text reaches a client), a business outcome is rethrown as it came for the adapter.
 */
export async function withStoreRetries<T>(op: string, call: () => Promise<T>, sleep: (ms: number) => Promise<unknown> = delay): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await call();
    } catch (err) {
      const kind = classifyStoreError(err);
      if (kind === 'condition') throw err;
      if (kind === 'fault') throw new StoreFault(op, err);
      if (attempt >= STORE_RETRY.attempts) throw unavailable(STORE_RETRY.retryAfterSeconds);
      await sleep(Math.random() * STORE_RETRY.baseMs * 2 ** attempt);
    }
  }
}

const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

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
