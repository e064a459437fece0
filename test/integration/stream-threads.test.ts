import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import type { DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { createInvoker } from '#infra/local/lambda.ts';
import { startLambdaThreads, type LambdaThreads } from '#infra/local/lambda-threads.ts';
import { startStreamPoller, type StreamFailure } from '#infra/local/stream-poller.ts';
import { installIam, type IamSetup } from '#infra/local/iam.ts';
import { LOCAL_ACCOUNT, type IamRequest } from '#infra/local/iam-policy.ts';
import { createTableInput } from '#infra/local/provision.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#infra/local/services.ts';

/**
 * A stream consumer run in a worker thread is seen by its event source mapping (the stream
 * poller) as one run in the runtime's own thread: a partial batch failure, a thrown error and a
 * call IAM refuses each fail the batch from the same record, retried the same way; a timeout (which
 * only a thread enforces) fails it as Lambda's `Sandbox.Timedout` and is retried too.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const fixturesDir = path.join(root, 'test/fixtures/lambda');
const FN = 'stream-batch';
const TIMEOUT_MS = 1_500;
const aws = { endpoint: inject('dynamoEndpoint'), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS };
const db = new DynamoDBClient(aws);
const tables: string[] = [];
const denied: { fn: string; request: IamRequest }[] = [];
const iamSetup: IamSetup = { names: { region: LOCAL_REGION, account: LOCAL_ACCOUNT, apiId: 'local', stage: 'local' }, tableName: 'parley-stream-threads', bucket: 'parley-stream-threads' };
let threads: LambdaThreads;

beforeAll(() => {
  process.env.AWS_REGION = LOCAL_REGION;
  process.env.AWS_ACCESS_KEY_ID = LOCAL_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = LOCAL_CREDENTIALS.secretAccessKey;
  // The check in this process, for the runtime's-thread runs; each thread installs its own.
  installIam({ ...iamSetup, onDenied: (fn, request) => void denied.push({ fn, request }) });
  threads = startLambdaThreads({
    functionsDir: fixturesDir,
    functions: new Set([FN]),
    maxThreads: 1,
    timeoutMs: () => TIMEOUT_MS,
    iam: iamSetup,
    onDenied: (fn, request) => void denied.push({ fn, request }),
  });
});
afterAll(async () => {
  await threads?.stop();
  await Promise.all(tables.map((TableName) => db.send(new DeleteTableCommand({ TableName }))));
  db.destroy();
});

/**
 * Items whose first delivery goes as their `act` says, all written before the poller starts (so
 * one batch holds them all), consumed through `invoke` until every record is done. Gives each
 * invocation's records and each retry the poller logged, by the items' keys.
 */
async function consume(invoke: (fn: string, event: unknown) => Promise<unknown>, acts: string[]) {
  const TableName = `stream-threads-${randomUUID()}`;
  await db.send(new CreateTableCommand(createTableInput(TableName)));
  tables.push(TableName);
  const keys = acts.map((act, i) => `${i}-${act}`);
  for (const [i, act] of acts.entries()) {
    await db.send(new PutItemCommand({ TableName, Item: { PK: { S: keys[i]! }, SK: { S: 'ITEM' }, ...(act !== 'ok' && { act: { S: act } }) } }));
  }
  const bySeq = new Map<string, string>();
  const label = (r: DynamoDBRecord) => r.dynamodb?.Keys?.PK?.S ?? '?';
  const invocations: string[][] = [];
  const retries: string[] = [];
  const failures: StreamFailure[] = [];
  const poller = await startStreamPoller({
    ...aws,
    tableName: TableName,
    pollIntervalMs: 20,
    startingPosition: 'TRIM_HORIZON',
    maxRetryAttempts: 3,
    handler: (event: DynamoDBStreamEvent) => {
      for (const r of event.Records) bySeq.set(r.dynamodb?.SequenceNumber ?? '', label(r));
      invocations.push(event.Records.map(label));
      return invoke(FN, event);
    },
    onFailure: (f) => void failures.push(f),
    logger: {
      warn: (message: string, detail?: { error?: unknown }) => {
        const seq = /failed at (\d+); (retry \d+ of \d+)/.exec(message);
        const err = detail?.error as Error | undefined;
        const text = err?.message.split('\n')[0]?.replace(/\d{10,}/g, (n) => bySeq.get(n) ?? n);
        retries.push(`${bySeq.get(seq?.[1] ?? '')}: ${seq?.[2]} (${err?.name}: ${text})`);
      },
      error: (message: string) => void retries.push(`error: ${message}`),
    },
  });
  try {
    await poller.drained();
  } finally {
    await poller.stop();
  }
  return { invocations, retries, failures };
}

const ACTS = ['ok', 'fail', 'ok', 'throw', 'denied', 'ok'];

describe('a stream consumer in a worker thread', () => {
  it('fails and retries a batch exactly as in the runtime\'s thread: a batch item failure, a thrown error, a call IAM refuses', async () => {
    const inRuntime = await consume(createInvoker(fixturesDir), ACTS);
    const deniedInRuntime = denied.splice(0);
    const inThread = await consume((fn, event) => threads.invoke(fn, event), ACTS);

    expect(inRuntime.failures).toEqual([]);
    expect(inRuntime.invocations).toEqual([
      ['0-ok', '1-fail', '2-ok', '3-throw', '4-denied', '5-ok'],
      ['1-fail', '2-ok', '3-throw', '4-denied', '5-ok'],
      ['1-fail', '2-ok', '3-throw', '4-denied', '5-ok'],
      ['1-fail', '2-ok', '3-throw', '4-denied', '5-ok'],
    ]);
    expect(inRuntime.retries).toEqual([
      '1-fail: retry 1 of 3 (Error: The handler reported a batch item failure at 1-fail)',
      '1-fail: retry 2 of 3 (RangeError: cannot handle 3-throw)',
      expect.stringMatching(/^1-fail: retry 3 of 3 \(AccessDeniedException: User: arn:aws:sts::000000000000:assumed-role\/parley-stream-batch-role\/parley-stream-batch is not authorized to perform: execute-api:ManageConnections/),
    ]);
    // The same invocations, the same retries, the same errors by name and message.
    expect(inThread).toEqual(inRuntime);
    expect(deniedInRuntime).toEqual([{ fn: FN, request: expect.objectContaining({ action: 'execute-api:ManageConnections' }) }]);
    expect(denied.splice(0)).toEqual(deniedInRuntime);
  });

  it('fails an invocation that runs past the function\'s timeout as Lambda\'s Sandbox.Timedout: the batch is retried in a fresh thread, then handed to the failure destination', async () => {
    const started = Date.now();
    const { invocations, retries, failures } = await consume((fn, event) => threads.invoke(fn, event), ['ok', 'hang', 'ok']);
    expect(Date.now() - started).toBeGreaterThanOrEqual(4 * TIMEOUT_MS);
    // A timed-out sandbox is discarded with what it remembered: each retry meets the record anew.
    expect(invocations).toEqual(Array.from({ length: 4 }, () => ['0-ok', '1-hang', '2-ok']));
    const timedOut = `Sandbox.Timedout: Task timed out after ${(TIMEOUT_MS / 1000).toFixed(2)} seconds`;
    expect(retries).toEqual([1, 2, 3].map((n) => `0-ok: retry ${n} of 3 (${timedOut})`));
    expect(failures.map((f) => f.records.map((r) => r.dynamodb?.Keys?.PK?.S))).toEqual([['0-ok', '1-hang', '2-ok']]);
    expect(failures[0]!.error).toMatchObject({ name: 'Sandbox.Timedout' });
  });
});
