import { setTimeout as sleep } from 'node:timers/promises';
import {
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

export interface TtlSweeper {
  /** Hand it to the table's stream poller, which takes each entry when it reads the REMOVE. */
  ttlDeletions: TtlDeletions;
  /** Deletes what is expired now; resolves with how many items it deleted. Runs after any sweep in progress. */
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

/**
 * Every `intervalMs`, deletes the items whose TTL attribute (a Number, epoch seconds) has passed.
 * Scans with a filter, which is fine here: this stands in for AWS's background process, not a
 * request path. Each delete is conditional on the item still being expired, so an item whose TTL
 * was refreshed after the scan survives.
 *
 * @example
 * const sweeper = startTtlSweeper({ client, tableName, ttlAttribute: TABLE.ttlAttribute, intervalMs: 30_000 });
 * const poller = await startStreamPoller({ ...aws, tableName, handler, pollIntervalMs: 250, ttlDeletions: sweeper.ttlDeletions });
 * await sweeper.sweepOnce();
 */
export function startTtlSweeper(opts: TtlSweeperOptions): TtlSweeper {
  const logger = opts.logger ?? console;
  const abort = new AbortController();
  const { signal } = abort;
  const ttlDeletions = createTtlDeletions();
  let keyNames: string[] | undefined;
  let last: Promise<number> = Promise.resolve(0);

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

  async function sweep(): Promise<number> {
    keyNames ??= await describeKeys();
    const now = Math.floor(Date.now() / 1000);
    // Comparisons with Numbers are false for a TTL attribute of any other type, which AWS ignores.
    const expired = '#ttl < :now AND #ttl >= :oldest';
    const names = { '#ttl': opts.ttlAttribute };
    const values = { ':now': { N: String(now) }, ':oldest': { N: String(now - FIVE_YEARS_S) } };
    let deleted = 0;
    let startKey: Keys | undefined;
    do {
      const page = await opts.client.send(
        new ScanCommand({
          TableName: opts.tableName,
          FilterExpression: expired,
          ProjectionExpression: keyNames.map((_, i) => `#k${i}`).join(', '),
          ExpressionAttributeNames: { ...names, ...Object.fromEntries(keyNames.map((name, i) => [`#k${i}`, name])) },
          ExpressionAttributeValues: values,
          ExclusiveStartKey: startKey,
        }),
        { abortSignal: signal },
      );
      for (const key of page.Items ?? []) {
        // Recorded before the delete: the poller may read the REMOVE before this call returns.
        ttlDeletions.record(key);
        try {
          await opts.client.send(
            new DeleteItemCommand({
              TableName: opts.tableName,
              Key: key,
              ConditionExpression: expired,
              ExpressionAttributeNames: names,
              ExpressionAttributeValues: values,
            }),
            { abortSignal: signal },
          );
          deleted++;
        } catch (err) {
          ttlDeletions.forget(key);
          // Refreshed or deleted since the scan: it stays (or is already gone), as in AWS.
          if ((err as Error).name !== 'ConditionalCheckFailedException') throw err;
        }
      }
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    return deleted;
  }

  async function describeKeys(): Promise<string[]> {
    const { Table } = await opts.client.send(new DescribeTableCommand({ TableName: opts.tableName }), { abortSignal: signal });
    const names = Table?.KeySchema?.map((k) => k.AttributeName).filter((n): n is string => n !== undefined);
    if (!names?.length) throw new Error(`Table ${opts.tableName} has no key schema`);
    return names;
  }

  return {
    ttlDeletions,
    sweepOnce,
    async stop() {
      abort.abort();
      await loop;
      await last.catch(() => undefined);
    },
  };
}
