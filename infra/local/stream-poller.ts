import { setTimeout as sleep } from 'node:timers/promises';
import { DescribeTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { compileFilter } from './event-filter.ts';
import type { TtlDeletions } from './ttl-sweeper.ts';

/**
 * The local stand-in for Lambda's DynamoDB Streams event source mapping: reads every shard of the
 * table's stream and invokes the handler with Lambda-shaped `DynamoDBStreamEvent` batches.
 *
 * Like AWS: filter patterns drop records before batching; up to `parallelizationFactor` batches in
 * flight per shard, each record in the one of its partition key, so one key's records stay in order;
 * `{ batchItemFailures }` honoured as with ReportBatchItemFailures; retries up to
 * `maxRetryAttempts`, then the rest of the batch goes to `onFailure` (the on-failure destination)
 * and polling goes on; a child shard waits for its parent; TTL deletions carry the Service
 * `userIdentity`. Unlike AWS: no BisectBatchOnFunctionError (off by default in AWS too), no batching
 * window, no record age limit, positions live in memory only (a restart starts over from
 * `startingPosition`), `eventSourceARN` is DynamoDB Local's (region `ddblocal`), and
 * `ApproximateCreationDateTime` has DynamoDB Local's precision (minutes).
 */

export interface StreamPollerOptions {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  tableName: string;
  /** The function's handler; a `{ batchItemFailures }` result is read as Lambda reads it. */
  handler: (event: DynamoDBStreamEvent) => Promise<unknown>;
  /** Lambda filter criteria (EventBridge patterns); a record is delivered when one matches. */
  filterPatterns?: readonly object[];
  /** Pause after a read that found nothing; a read that found records is followed at once. */
  pollIntervalMs: number;
  batchSize?: number;
  /**
   * Batches of one shard in flight at once (AWS: 1 to 10). Records go to a batch by their
   * partition key, so one key's records stay in order, as Lambda keeps them.
   */
  parallelizationFactor?: number;
  maxRetryAttempts?: number;
  /** For the shards that exist at start; shards found later are read from their beginning. */
  startingPosition?: 'LATEST' | 'TRIM_HORIZON';
  onFailure?: (failure: StreamFailure) => void;
  /** Where the TTL sweeper notes its deletions, to mark their REMOVE records as AWS does. */
  ttlDeletions?: Pick<TtlDeletions, 'take'>;
  /**
   * Sees every record read, in order and before the filter patterns, as the SDK returns it (the
   * TTL sweeper learns from it which items carry a TTL). An error it throws is logged, not raised.
   */
  onRecord?: (record: _Record) => void;
  logger?: Pick<Console, 'warn' | 'error'>;
}

export interface StreamFailure {
  shardId: string;
  /** The records of the last failed batch from the first failed one on: none of them will be retried. */
  records: DynamoDBRecord[];
  error: unknown;
}

export interface StreamPoller {
  /**
   * Resolves once every record written to the table before the call has been handled: delivered,
   * dropped by the filter or handed to `onFailure`. For tests and benchmarks.
   */
  drained(): Promise<void>;
  /** Stops polling, waits for a handler call in progress, and releases the clients. */
  stop(): Promise<void>;
}

interface ShardState {
  id: string;
  parentId: string | undefined;
  startAt: 'LATEST' | 'TRIM_HORIZON';
  iterator?: string | undefined;
  /** Where to resume with a new iterator; the records read so far are in `buffer` or done. */
  lastReadSeq?: string | undefined;
  /** The shard is closed and was read to its end. */
  ended: boolean;
  /** Ended, and every record it held was delivered or handed to onFailure. */
  finished: boolean;
  /** Records read and matched but not yet delivered successfully. */
  buffer: DynamoDBRecord[];
  /** Failed attempts of the records a batch failed at, by sequence number. */
  retries: Map<string, number>;
  /** Logical time at which the last read that found nothing (with nothing pending) started. */
  quietAt: number;
}

/** Where a local stream consumer reads (the table's stream) and how it reaches its function. */
export interface ConsumerWiring extends Pick<StreamPollerOptions, 'endpoint' | 'region' | 'credentials' | 'tableName' | 'pollIntervalMs'> {
  invoke: (fn: string, event: unknown) => Promise<unknown>;
}

/**
 * One event source mapping on the table's stream, as in AWS: the function `fn` invoked with the
 * batches the poller reads, under the mapping's own filter, retries and failure destination.
 */
export function startStreamConsumer(
  wiring: ConsumerWiring,
  fn: string,
  mapping: Omit<StreamPollerOptions, keyof ConsumerWiring | 'handler'>,
): Promise<StreamPoller> {
  const { invoke, ...stream } = wiring;
  return startStreamPoller({ ...stream, ...mapping, handler: (event) => invoke(fn, event) });
}

const DESCRIBE_INTERVAL_MS = 10_000;
const ERROR_BACKOFF_MS = 1_000;
const retryBackoffMs = (failures: number) => Math.min(100 * 2 ** (failures - 1), 2_000);
const TTL_IDENTITY = { type: 'Service', principalId: 'dynamodb.amazonaws.com' } as const;

/**
 * Starts polling; resolves once the shards present at start are known (and, for `LATEST`,
 * anchored), so records written after it resolves are delivered.
 *
 * @example
 * const poller = await startStreamPoller({ ...aws, tableName, handler, filterPatterns: streamFilterPatterns, pollIntervalMs: 250 });
 * await poller.stop();
 */
export async function startStreamPoller(opts: StreamPollerOptions): Promise<StreamPoller> {
  const matches = compileFilter(opts.filterPatterns ?? []);
  const batchSize = opts.batchSize ?? 100;
  const lanes = Math.max(1, Math.min(10, Math.floor(opts.parallelizationFactor ?? 1)));
  const maxRetryAttempts = opts.maxRetryAttempts ?? 5;
  const startingPosition = opts.startingPosition ?? 'LATEST';
  const logger = opts.logger ?? console;
  const onFailure =
    opts.onFailure ??
    ((f: StreamFailure) =>
      logger.error('Stream records dropped after their last retry', {
        shardId: f.shardId,
        sequenceNumbers: f.records.map((r) => r.dynamodb?.SequenceNumber),
        error: f.error,
      }));
  const config = { endpoint: opts.endpoint, region: opts.region, credentials: opts.credentials };
  const ddb = new DynamoDBClient(config);
  const streams = new DynamoDBStreamsClient(config);
  const abort = new AbortController();
  const { signal } = abort;
  const pause = (ms: number) => sleep(ms, undefined, { signal }).catch(() => undefined);

  const shards = new Map<string, ShardState>();
  const loops: Promise<void>[] = [];
  const waiters = new Set<{ since: number; shards: ShardState[]; resolve: () => void }>();
  let clock = 0;
  let streamArn = '';
  /** The table's partition key attribute, which picks a record's lane. */
  let hashKey = '';
  let initial = true;
  let discovering = Promise.resolve();

  /** Serialised, so each call gets a DescribeStream that starts after it. */
  const refresh = () => (discovering = discovering.then(discover));

  async function discover(): Promise<void> {
    try {
      streamArn ||= await findStreamArn();
      const found: Shard[] = [];
      let from: string | undefined;
      do {
        const { StreamDescription: page } = await streams.send(
          new DescribeStreamCommand({ StreamArn: streamArn, ExclusiveStartShardId: from }),
          { abortSignal: signal },
        );
        found.push(...(page?.Shards ?? []));
        from = page?.LastEvaluatedShardId;
      } while (from);
      const fresh = found
        .filter((s): s is Shard & { ShardId: string } => s.ShardId !== undefined && !shards.has(s.ShardId))
        .map((s): ShardState => ({
          id: s.ShardId,
          parentId: s.ParentShardId,
          startAt: initial ? startingPosition : 'TRIM_HORIZON',
          ended: false,
          finished: false,
          buffer: [],
          retries: new Map(),
          quietAt: 0,
        }));
      // LATEST means "from now": anchor it before start resolves, or records written meanwhile would be skipped.
      if (initial && startingPosition === 'LATEST') {
        await Promise.all(fresh.map(async (shard) => (shard.iterator = await acquireIterator(shard))));
      }
      initial = false;
      for (const shard of fresh) {
        shards.set(shard.id, shard);
        loops.push(run(shard));
      }
    } catch (err) {
      if (!signal.aborted) logger.error(`Could not describe the stream of ${opts.tableName}; retrying`, { error: err });
    }
  }

  async function findStreamArn(): Promise<string> {
    const { Table } = await ddb.send(new DescribeTableCommand({ TableName: opts.tableName }), { abortSignal: signal });
    if (!Table?.LatestStreamArn) throw new Error(`Table ${opts.tableName} has no stream`);
    hashKey = Table.KeySchema?.find((k) => k.KeyType === 'HASH')?.AttributeName ?? '';
    return Table.LatestStreamArn;
  }

  async function acquireIterator(shard: ShardState): Promise<string> {
    const position = shard.lastReadSeq
      ? ({ ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: shard.lastReadSeq } as const)
      : ({ ShardIteratorType: shard.startAt } as const);
    const { ShardIterator } = await streams.send(
      new GetShardIteratorCommand({ StreamArn: streamArn, ShardId: shard.id, ...position }),
      { abortSignal: signal },
    );
    if (!ShardIterator) throw new Error(`No iterator for shard ${shard.id}`);
    return ShardIterator;
  }

  async function run(shard: ShardState): Promise<void> {
    while (!signal.aborted && !shard.finished) {
      try {
        const parent = shard.parentId === undefined ? undefined : shards.get(shard.parentId);
        if (parent && !parent.finished) {
          await pause(opts.pollIntervalMs);
          continue;
        }
        const read = shard.buffer.length < batchSize && !shard.ended ? await readRecords(shard) : undefined;
        if (shard.buffer.length > 0) {
          await deliver(shard);
        } else if (shard.ended) {
          shard.finished = true;
          settleWaiters();
          void refresh(); // its children are due now
        } else if (read?.count === 0) {
          shard.quietAt = read.startedAt;
          settleWaiters();
          await pause(opts.pollIntervalMs);
        }
      } catch (err) {
        if (signal.aborted) break;
        await pause(recover(shard, err));
      }
    }
  }

  async function readRecords(shard: ShardState): Promise<{ count: number; startedAt: number }> {
    shard.iterator ??= await acquireIterator(shard);
    const startedAt = ++clock;
    const page = await streams.send(new GetRecordsCommand({ ShardIterator: shard.iterator, Limit: 1000 }), { abortSignal: signal });
    shard.iterator = page.NextShardIterator;
    shard.ended = page.NextShardIterator === undefined;
    const records = page.Records ?? [];
    for (const raw of records) {
      shard.lastReadSeq = raw.dynamodb?.SequenceNumber;
      if (opts.onRecord) observe(raw);
      const record = toLambdaRecord(raw);
      if (matches(record)) shard.buffer.push(record);
    }
    return { count: records.length, startedAt };
  }

  function observe(raw: _Record): void {
    try {
      opts.onRecord?.(raw);
    } catch (err) {
      logger.error('onRecord threw; reading goes on', { sequenceNumber: raw.dynamodb?.SequenceNumber, error: err });
    }
  }

  function toLambdaRecord(raw: _Record): DynamoDBRecord {
    const { ApproximateCreationDateTime: created, ...stream } = raw.dynamodb ?? {};
    const ttlDeleted = raw.eventName === 'REMOVE' && stream.Keys !== undefined && opts.ttlDeletions?.take(stream.Keys) === true;
    const identity = raw.userIdentity && { type: raw.userIdentity.Type, principalId: raw.userIdentity.PrincipalId };
    const record = {
      eventID: raw.eventID,
      eventName: raw.eventName,
      eventVersion: raw.eventVersion,
      eventSource: raw.eventSource,
      awsRegion: opts.region,
      dynamodb: { ApproximateCreationDateTime: created && Math.floor(created.getTime() / 1000), ...stream },
      eventSourceARN: streamArn,
      userIdentity: ttlDeleted ? TTL_IDENTITY : identity,
    };
    // Lambda hands the function JSON: binary attributes become base64 strings, absent fields vanish.
    const json = JSON.parse(
      JSON.stringify(record, (_, value: unknown) => (value instanceof Uint8Array ? Buffer.from(value).toString('base64') : value)),
    ) as DynamoDBRecord;
    for (const image of [json.dynamodb?.Keys, json.dynamodb?.NewImage, json.dynamodb?.OldImage]) if (image) restoreEmptyMaps(image);
    return json;
  }

  async function deliver(shard: ShardState): Promise<void> {
    // Each lane takes its first records from the buffer in order; the rest wait for the next round.
    const batches = Array.from({ length: lanes }, () => [] as DynamoDBRecord[]);
    for (const record of shard.buffer) {
      const batch = batches[lanes === 1 ? 0 : laneOf(record, hashKey, lanes)]!;
      if (batch.length < batchSize) batch.push(record);
    }
    const outcomes = await Promise.all(batches.filter((b) => b.length > 0).map((batch) => deliverBatch(shard, batch)));
    const done = new Set(outcomes.flatMap((o) => o.done));
    shard.buffer = shard.buffer.filter((r) => !done.has(r));
    const backoff = Math.max(0, ...outcomes.map((o) => o.backoffMs));
    if (backoff > 0) await pause(backoff);
  }

  /** One batch through the handler: the records that are done with (delivered or given up on), and the pause a retry asks for. */
  async function deliverBatch(shard: ShardState, batch: DynamoDBRecord[]): Promise<{ done: DynamoDBRecord[]; backoffMs: number }> {
    let failedAt: number;
    let error: unknown;
    try {
      // A copy per attempt: a handler that mutates its event must not change what a retry gets.
      failedAt = firstFailure(await opts.handler({ Records: structuredClone(batch) }), batch);
    } catch (err) {
      failedAt = 0;
      error = err;
    }
    if (failedAt === -1) {
      for (const r of batch) shard.retries.delete(r.dynamodb?.SequenceNumber ?? '');
      return { done: batch, backoffMs: 0 };
    }
    const head = batch[failedAt]?.dynamodb?.SequenceNumber ?? '';
    error ??= new Error(`The handler reported a batch item failure at ${head}`);
    const delivered = batch.slice(0, failedAt);
    const failures = (shard.retries.get(head) ?? 0) + 1;
    if (failures <= maxRetryAttempts) {
      shard.retries.set(head, failures);
      logger.warn(`Stream batch failed at ${head}; retry ${failures} of ${maxRetryAttempts}`, { shardId: shard.id, error });
      return { done: delivered, backoffMs: retryBackoffMs(failures) };
    }
    shard.retries.delete(head);
    const records = batch.slice(failedAt);
    try {
      onFailure({ shardId: shard.id, records, error });
    } catch (err) {
      logger.error('onFailure threw', { error: err });
    }
    return { done: batch, backoffMs: 0 };
  }

  /** What to do after a failed stream read; returns the pause before the next attempt. */
  function recover(shard: ShardState, err: unknown): number {
    const name = (err as Error).name;
    if (name === 'ExpiredIteratorException') {
      shard.iterator = undefined; // a new one resumes after the last record read
      return 0;
    }
    if (name === 'TrimmedDataAccessException') {
      // The records after our position are gone: go on from the oldest one left.
      logger.warn(`Records of shard ${shard.id} were trimmed before they were read`, { after: shard.lastReadSeq });
      shard.iterator = undefined;
      shard.lastReadSeq = undefined;
      shard.startAt = 'TRIM_HORIZON';
      return 0;
    }
    logger.error(`Reading shard ${shard.id} of ${opts.tableName} failed; retrying`, { error: err });
    return ERROR_BACKOFF_MS;
  }

  function settleWaiters(): void {
    for (const waiter of waiters) {
      if (waiter.shards.every((s) => s.finished || s.quietAt > waiter.since)) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  }

  await refresh();
  const describeLoop = (async () => {
    while (!signal.aborted) {
      await pause(DESCRIBE_INTERVAL_MS);
      if (!signal.aborted) await refresh();
    }
  })();

  return {
    async drained() {
      await refresh();
      if (signal.aborted) return;
      await new Promise<void>((resolve) => {
        waiters.add({ since: ++clock, shards: [...shards.values()], resolve });
        settleWaiters();
      });
    },
    async stop() {
      abort.abort();
      await describeLoop;
      await discovering;
      await Promise.all(loops);
      for (const waiter of waiters) waiter.resolve();
      waiters.clear();
      ddb.destroy();
      streams.destroy();
    },
  };
}

/** The lane of a record: a hash of its partition key's value. */
function laneOf(record: DynamoDBRecord, hashKey: string, lanes: number): number {
  const text = JSON.stringify(record.dynamodb?.Keys?.[hashKey] ?? null);
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 16777619);
  return (h >>> 0) % lanes;
}

/**
 * Index of the first record to retry, or -1 when the batch succeeded, by Lambda's
 * ReportBatchItemFailures rules: no result, no list or an empty list is success; an identifier
 * that is empty, missing or not in the batch fails the whole batch.
 */
function firstFailure(result: unknown, batch: readonly DynamoDBRecord[]): number {
  const failures = (result as { batchItemFailures?: unknown } | null | undefined)?.batchItemFailures;
  if (failures === undefined || failures === null) return -1;
  if (!Array.isArray(failures)) return 0;
  let first = -1;
  for (const failure of failures as { itemIdentifier?: unknown }[]) {
    const id = failure?.itemIdentifier;
    const index = typeof id === 'string' && id !== '' ? batch.findIndex((r) => r.dynamodb?.SequenceNumber === id) : -1;
    if (index === -1) return 0;
    if (first === -1 || index < first) first = index;
  }
  return first;
}

/**
 * The SDK's Streams client reads an empty map attribute (`{"M":{}}`) as `{}`; Lambda receives the
 * service's JSON, where it stays `{"M":{}}`. No other attribute value reads as `{}`.
 */
function restoreEmptyMaps(values: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(values)) {
    if (typeof value !== 'object' || value === null) continue;
    const av = value as { M?: Record<string, unknown>; L?: unknown[] };
    if (Object.keys(av).length === 0) values[name] = { M: {} };
    else if (av.M) restoreEmptyMaps(av.M);
    else if (av.L) restoreEmptyMaps(av.L as unknown as Record<string, unknown>);
  }
}
