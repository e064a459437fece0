import { setTimeout as sleep } from 'node:timers/promises';
import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  DescribeTableCommand,
  ScanCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';

/**
 * DynamoDB Local never deletes expired items; this sweeper plays AWS's background TTL process. AWS
 * marks those deletions in the stream (`userIdentity` of type Service); DynamoDB Local cannot, so
 * the sweeper notes what it deletes in its `ttlDeletions` log, which the stream poller consults.
 *
 * AWS's process costs the table no request latency; a Scan per sweep would read every item of the
 * table (every message and member) each interval and slow whatever runs beside it. So the sweeper
 * reads the table once, at start, and from then on learns which items carry a TTL from the
 * table's stream, which the runtime reads anyway.
 */

type Keys = Record<string, AttributeValue>;

/** The keys the sweeper deleted and whose REMOVE record the poller has not seen yet. */
export interface TtlDeletions {
  record(keys: Keys): void;
  forget(keys: Keys): void;
  /** True once per recorded deletion of these keys. */
  take(keys: Keys): boolean;
}

/**
 * Bounded: past `max` entries the oldest are dropped (their REMOVE then looks like a user's), so a
 * poller that is not running cannot make it grow.
 */
export function createTtlDeletions(max = 10_000): TtlDeletions {
  const pending = new Map<string, number>();
  return {
    record(keys) {
      const id = keyId(keys);
      pending.set(id, (pending.get(id) ?? 0) + 1);
      for (const oldest of pending.keys()) {
        if (pending.size <= max) break;
        pending.delete(oldest);
      }
    },
    forget: (keys) => void release(keyId(keys)),
    take: (keys) => release(keyId(keys)),
  };

  function release(id: string): boolean {
    const count = pending.get(id);
    if (count === undefined) return false;
    if (count > 1) pending.set(id, count - 1);
    else pending.delete(id);
    return true;
  }
}

/** Attribute order does not matter; binary keys compare by content. */
function keyId(keys: Keys): string {
  const entries = Object.entries(keys).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify(entries, (_, value: unknown) => (value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value));
}

/** What the sweeper reads of a stream record; the SDK's Streams `_Record` is one. */
export interface TtlStreamRecord {
  eventName?: string | undefined;
  dynamodb?: { Keys?: Record<string, unknown> | undefined; NewImage?: Record<string, unknown> | undefined } | undefined;
}

export interface TtlSweeper {
  /** Hand it to the table's stream poller, which takes each entry when it reads the REMOVE. */
  ttlDeletions: TtlDeletions;
  /**
   * Hand it every record of the table's stream, in order, from a reader anchored before the
   * sweeper starts (the stream poller's `onRecord`): what the sweeper knows of items written after
   * its start comes from here only.
   */
  observe(record: TtlStreamRecord): void;
  /**
   * Deletes what is expired now among the items it knows of (those of its start-up scan and of
   * the records observed so far); resolves with how many items it deleted. Runs after any sweep in
   * progress, and after the start-up scan.
   */
  sweepOnce(): Promise<number>;
  stop(): Promise<void>;
}

export interface TtlSweeperOptions {
  /** The caller's client: the sweeper neither configures nor destroys it. */
  client: DynamoDBClient;
  tableName: string;
  ttlAttribute: string;
  intervalMs: number;
  logger?: Pick<Console, 'warn' | 'error'>;
}

// AWS leaves alone items whose TTL is more than five years in the past.
const FIVE_YEARS_S = 5 * 365 * 24 * 3600;
const nowS = () => Math.floor(Date.now() / 1000);

interface Entry {
  keys: Keys;
  /** Epoch seconds. */
  expiry: number;
}

/**
 * Every `intervalMs`, deletes the items whose TTL attribute (a Number, epoch seconds) has passed.
 *
 * It keeps in memory the key and expiry of every item with a valid TTL (a finite Number no more
 * than five years past; another type is ignored, as AWS ignores it): filled at start by one paged
 * Scan (what the table held before), then kept by `observe` from the stream's records (INSERT and
 * MODIFY: the new image's TTL; a MODIFY without it and a REMOVE: forgotten). A sweep reads no
 * table: it deletes the entries that are due, each on the condition that the item is still
 * expired, so an item whose TTL was refreshed meanwhile survives.
 *
 * Nothing written is missed if the stream is read from before the scan starts: an item written
 * before is in the scan; one written after is in the stream, whose records win over the scan's
 * (a key the stream told of while the scan ran keeps what the stream said).
 *
 * @example
 * let sweeper: TtlSweeper | undefined;
 * const poller = await startStreamPoller({
 *   ...aws, tableName, handler, pollIntervalMs: 250,
 *   ttlDeletions: { take: (keys) => sweeper?.ttlDeletions.take(keys) ?? false },
 *   onRecord: (record) => sweeper?.observe(record),
 * });
 * sweeper = startTtlSweeper({ client, tableName, ttlAttribute: TABLE.ttlAttribute, intervalMs: 5_000 });
 */
export function startTtlSweeper(opts: TtlSweeperOptions): TtlSweeper {
  const logger = opts.logger ?? console;
  const abort = new AbortController();
  const { signal } = abort;
  const ttlDeletions = createTtlDeletions();
  const index = new Map<string, Entry>();
  /** The keys the stream told of while the start-up scan runs: the scan's older view of them is ignored. */
  let touched: Set<string> | undefined;
  let seeded = false;
  let keyNames: string[] | undefined;
  let last: Promise<number> = Promise.resolve(0);
  // The first sweep waits for it; if it fails, that sweep scans again.
  let seeding: Promise<void> | undefined = seed();
  seeding.catch(() => undefined);

  const sweepOnce = (): Promise<number> => (last = last.then(sweep, sweep));

  const loop = (async () => {
    while (!signal.aborted) {
      await sleep(opts.intervalMs, undefined, { signal }).catch(() => undefined);
      if (signal.aborted) break;
      await sweepOnce().catch((err: unknown) => {
        if (!signal.aborted) logger.error('TTL sweep failed; retrying at the next interval', { error: err });
      });
    }
  })();

  /** Records what an item's TTL now is: indexed when it is a valid one, forgotten otherwise. */
  function learn(id: string, keys: Keys, ttl: unknown): void {
    const expiry = expiryOf(ttl);
    if (expiry === undefined || expiry < nowS() - FIVE_YEARS_S) index.delete(id);
    else index.set(id, { keys, expiry });
  }

  function expiryOf(ttl: unknown): number | undefined {
    const n = typeof ttl === 'object' && ttl !== null ? (ttl as { N?: unknown }).N : undefined;
    if (typeof n !== 'string') return undefined;
    const expiry = Number(n);
    return Number.isFinite(expiry) ? expiry : undefined;
  }

  function observe(record: TtlStreamRecord): void {
    try {
      const keys = record.dynamodb?.Keys;
      if (typeof keys !== 'object' || keys === null) return;
      const id = keyId(keys as Keys);
      if (record.eventName === 'REMOVE') {
        touched?.add(id);
        index.delete(id);
      } else if (record.eventName === 'INSERT' || record.eventName === 'MODIFY') {
        const image = record.dynamodb?.NewImage;
        if (typeof image !== 'object' || image === null) return;
        touched?.add(id);
        learn(id, keys as Keys, Object.hasOwn(image, opts.ttlAttribute) ? image[opts.ttlAttribute] : undefined);
      }
    } catch (err) {
      logger.warn('TTL sweeper could not read a stream record; ignored', { error: err });
    }
  }

  async function seed(): Promise<void> {
    touched = new Set();
    try {
      const names = (keyNames ??= await describeKeys());
      const oldest = nowS() - FIVE_YEARS_S;
      let startKey: Keys | undefined;
      do {
        const page = await opts.client.send(
          new ScanCommand({
            TableName: opts.tableName,
            // Comparisons with Numbers are false for a TTL attribute of any other type, which AWS ignores.
            FilterExpression: '#ttl >= :oldest',
            ProjectionExpression: ['#ttl', ...names.map((_, i) => `#k${i}`)].join(', '),
            ExpressionAttributeNames: { '#ttl': opts.ttlAttribute, ...Object.fromEntries(names.map((name, i) => [`#k${i}`, name])) },
            ExpressionAttributeValues: { ':oldest': { N: String(oldest) } },
            ExclusiveStartKey: startKey,
          }),
          { abortSignal: signal },
        );
        for (const item of page.Items ?? []) {
          const keys = Object.fromEntries(names.map((name) => [name, item[name]!]));
          const id = keyId(keys);
          if (!touched.has(id)) learn(id, keys, item[opts.ttlAttribute]);
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey);
      seeded = true;
    } finally {
      touched = undefined;
      if (!seeded) seeding = undefined;
    }
  }

  async function sweep(): Promise<number> {
    if (!seeded) await (seeding ??= seed());
    const now = nowS();
    const expired = '#ttl < :now AND #ttl >= :oldest';
    const names = { '#ttl': opts.ttlAttribute };
    const values = { ':now': { N: String(now) }, ':oldest': { N: String(now - FIVE_YEARS_S) } };
    const due: [string, Entry][] = [];
    for (const [id, entry] of index) {
      if (entry.expiry < now - FIVE_YEARS_S) index.delete(id); // indexed long ago: AWS leaves it now
      else if (entry.expiry < now) due.push([id, entry]);
    }
    let deleted = 0;
    for (const [id, entry] of due) {
      // Recorded before the delete: the poller may read the REMOVE before this call returns.
      ttlDeletions.record(entry.keys);
      try {
        await opts.client.send(
          new DeleteItemCommand({
            TableName: opts.tableName,
            Key: entry.keys,
            ConditionExpression: expired,
            ExpressionAttributeNames: names,
            ExpressionAttributeValues: values,
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
          { abortSignal: signal },
        );
        deleted++;
        // Unless the stream already told of a newer item under these keys.
        if (index.get(id) === entry) index.delete(id);
      } catch (err) {
        ttlDeletions.forget(entry.keys);
        // Refreshed or deleted since it was indexed: it stays (or is already gone), as in AWS.
        if (!(err instanceof ConditionalCheckFailedException)) throw err;
        // The stream tells of the change too; the item as it is now keeps a missed record from leaving the entry stale.
        if (index.get(id) === entry) learn(id, entry.keys, err.Item?.[opts.ttlAttribute]);
      }
    }
    return deleted;
  }

  async function describeKeys(): Promise<string[]> {
    const { Table } = await opts.client.send(new DescribeTableCommand({ TableName: opts.tableName }), { abortSignal: signal });
    const names = Table?.KeySchema?.map((k) => k.AttributeName).filter((n): n is string => n !== undefined);
    if (!names?.length) throw new Error(`Table ${opts.tableName} has no key schema`);
    const view = Table?.StreamSpecification?.StreamEnabled ? Table.StreamSpecification.StreamViewType : undefined;
    if (view !== 'NEW_IMAGE' && view !== 'NEW_AND_OLD_IMAGES') {
      throw new Error(`The TTL sweeper learns TTLs from the stream's new images; the stream of ${opts.tableName} is ${view ?? 'off'}`);
    }
    return names;
  }

  return {
    ttlDeletions,
    observe,
    sweepOnce,
    async stop() {
      abort.abort();
      await loop;
      await seeding?.catch(() => undefined);
      await last.catch(() => undefined);
    },
  };
}
