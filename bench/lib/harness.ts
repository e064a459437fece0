import { randomUUID } from 'node:crypto';
import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { configFromEnv, startLocalStack, type LocalConfig, type LocalStack } from '#infra/local/stack.ts';
import { ENV } from '#shared/env.ts';
import { configureDeps } from '#functions/lib/deps.ts';
import { Recorder, toCalls, type Call } from './meter.ts';
import type { CapacityReading } from '#shared/adapters/dynamodb/capacity.ts';
import { keys } from '#shared/adapters/dynamodb/entities/keys.ts';
import type { BenchSocket } from './clients.ts';

export interface Bench {
  stack: LocalStack;
  config: LocalConfig;
  recorder: Recorder;
  /** A client of the bench's own, not metered: reading items back costs the figures nothing. */
  db: DynamoDBClient;
  /** Turns readings into calls priced as DynamoDB Local reported them and as AWS would. */
  calls(readings: readonly CapacityReading[]): Promise<Call[]>;
  /** Waits until every stored change so far has been fanned out, then forgets what was heard. */
  settle(): Promise<void>;
  close(): Promise<void>;
}

export interface BenchTarget {
  /** An existing DynamoDB Local / S3 store (the test runtime's), instead of starting them. */
  dynamoEndpoint?: string;
  s3Endpoint?: string;
}

/**
 * The whole local runtime in this process, in memory, on free ports: the handlers run here, so
 * the recorder hears their DynamoDB and PostToConnection calls. The stream poll interval is
 * `npm start`'s (PARLEY_STREAM_POLL_MS, default 50 ms). Sets the per-user rate limits in
 * `process.env`, as `startLocalStack` sets the rest: this process is the bench's.
 */
export async function startBench(target: BenchTarget = {}): Promise<Bench> {
  // One client sends 1,000 messages in a minute here: lift the per-user limits, not the limiter,
  // whose own DynamoDB calls are still made and counted.
  process.env[ENV.sendRateLimit] ??= String(1e6);
  process.env[ENV.writeRateLimit] ??= String(1e6);
  const fromEnv = configFromEnv({ ...process.env, PARLEY_IN_MEMORY: '1' });
  const config: LocalConfig = {
    ...fromEnv,
    httpPort: 0,
    wsPort: 0,
    tableName: `parley-bench-${randomUUID().slice(0, 8)}`,
    // The notification path is measured on its own (notifications.ts), not inside other windows.
    eventsConsumer: false,
    ...(target.dynamoEndpoint && { dynamoEndpoint: target.dynamoEndpoint }),
    ...(target.s3Endpoint && { s3Endpoint: target.s3Endpoint }),
  };
  // The handlers run in this process: their composition root reports to the recorder.
  const recorder = new Recorder();
  configureDeps(recorder.observers);
  const stack = await startLocalStack(config);
  const db = new DynamoDBClient({ endpoint: stack.dynamoEndpoint });
  return {
    stack,
    config,
    recorder,
    db,
    calls: (readings) => toCalls(readings, db, config.tableName),
    async settle() {
      await stack.streamDrained();
      recorder.take();
    },
    async close() {
      recorder.close();
      db.destroy();
      await stack.stop();
      configureDeps({});
    },
  };
}

/** Polls `check` until it is truthy; fails after `timeoutMs`. */
export async function waitUntil(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** Closes the socket and waits until `$disconnect` has removed its connection item (the stream records it wrote may still be pending). */
export async function closeAndForget(bench: Bench, socket: BenchSocket): Promise<void> {
  const id = socket.connectionId;
  await socket.close();
  await waitUntil('the connection to be forgotten', async () => {
    const { Item } = await bench.db.send(new GetItemCommand({ TableName: bench.config.tableName, Key: marshall(keys.connection(id)) }));
    return Item === undefined;
  });
  // `$disconnect` writes the presence item after deleting the connection item: what is measured
  // next (or the stream's drain) must not start before that write.
  await bench.stack.disconnectsDone();
}
