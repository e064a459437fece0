import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { threadId } from 'node:worker_threads';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvokeCommand, LambdaClient } from '@aws-sdk/client-lambda';
import { startLambdaApi, type LocalLambdaApi } from '#infra/local/lambda-api.ts';
import { startLambdaThreads, type LambdaThreads } from '#infra/local/lambda-threads.ts';
import type { IamRequest } from '#infra/local/iam-policy.ts';
import { LOCAL_ACCOUNT } from '#infra/local/iam-policy.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#infra/local/services.ts';
import { fanoutWorkerFn } from '#infra/routes.ts';
import { grantLabel, grantsOf } from '#infra/permissions.ts';
import { ENV } from '#shared/env.ts';

/**
 * Lambda invocations in worker threads, called as the functions call them: through the local
 * Lambda API with the SDK's client. The fixtures (test/fixtures/lambda) are handlers written to
 * show where and how they ran; the IAM case runs the real fan-out worker under its real grants,
 * less the one it needs.
 */
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const HANG_TIMEOUT_MS = 1_500;
const WORKER_POSTS = grantLabel(fanoutWorkerFn, grantsOf(fanoutWorkerFn).find((g) => g.on.kind === 'connections')!, 'execute-api:ManageConnections');

let fixtures: LambdaThreads;
let real: LambdaThreads;
let lambdaApi: LocalLambdaApi;
let client: LambdaClient;
const denied: { fn: string; request: IamRequest }[] = [];
const usage = new Map<string, number>();

beforeAll(async () => {
  process.env.PARLEY_FIXTURE_VALUE = 'from the runtime';
  // Where the worker would post: nothing listens, and nothing may get there (its grant is revoked).
  process.env[ENV.wsCallbackUrl] = 'http://127.0.0.1:9';
  process.env[ENV.tableName] = 'parley-threads-test';
  process.env.AWS_REGION = LOCAL_REGION;
  process.env.AWS_ACCESS_KEY_ID = LOCAL_CREDENTIALS.accessKeyId;
  process.env.AWS_SECRET_ACCESS_KEY = LOCAL_CREDENTIALS.secretAccessKey;
  fixtures = startLambdaThreads({
    functionsDir: path.join(root, 'test/fixtures/lambda'),
    functions: new Set(['echo', 'fail', 'hang']),
    maxThreads: 2,
    timeoutMs: (fn) => (fn === 'hang' ? HANG_TIMEOUT_MS : 10_000),
  });
  real = startLambdaThreads({
    functionsDir: path.join(root, 'functions'),
    functions: new Set([fanoutWorkerFn]),
    maxThreads: 1,
    timeoutMs: () => 10_000,
    iam: {
      names: { region: LOCAL_REGION, account: LOCAL_ACCOUNT, apiId: 'local', stage: 'local' },
      tableName: 'parley-threads-test',
      bucket: 'parley-threads-test',
      revoked: new Set([WORKER_POSTS]),
    },
    onDenied: (fn, request) => void denied.push({ fn, request }),
    usage,
  });
  lambdaApi = await startLambdaApi({
    functions: ['echo', 'fail', 'hang', fanoutWorkerFn],
    invoke: (fn, event) => (fixtures.runs(fn) ? fixtures.invoke(fn, event) : real.invoke(fn, event)),
    credentials: [LOCAL_CREDENTIALS],
    region: LOCAL_REGION,
    account: LOCAL_ACCOUNT,
  });
  client = new LambdaClient({ endpoint: lambdaApi.endpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
}, 60_000);
afterAll(async () => {
  client?.destroy();
  await lambdaApi?.stop();
  await Promise.all([fixtures?.stop(), real?.stop()]);
});

async function invoke(fn: string, event: unknown) {
  const out = await client.send(new InvokeCommand({ FunctionName: `parley-${fn}`, Payload: Buffer.from(JSON.stringify(event)) }));
  return { functionError: out.FunctionError, payload: JSON.parse(Buffer.from(out.Payload ?? []).toString('utf8')) };
}

describe('Lambda invocations in worker threads', () => {
  it('runs a function in a thread of its own with the runtime\'s environment, and keeps the thread warm for the next invocation', async () => {
    const first = await invoke('echo', { n: 1 });
    expect(first.functionError).toBeUndefined();
    expect(first.payload).toMatchObject({ event: { n: 1 }, fixtureEnv: 'from the runtime', functionName: 'parley-echo' });
    expect(first.payload.threadId).not.toBe(threadId);
    expect(first.payload.remainingMs).toBeGreaterThan(9_000);
    const second = await invoke('echo', { n: 2 });
    expect(second.payload.threadId).toBe(first.payload.threadId);
    expect(second.payload.invocations).toBe(first.payload.invocations + 1);
  });

  it('runs concurrent invocations in parallel threads, each one invocation at a time, as concurrent Lambda sandboxes', async () => {
    // Both threads warm first: a thread's first invocation loads the handler.
    await Promise.all([1, 2].map((n) => invoke('echo', { n, waitMs: 200 })));
    const answers = await Promise.all([1, 2, 3, 4].map((n) => invoke('echo', { n, waitMs: 400 })));
    // Four waits of 400 ms on two threads, timed by the handlers themselves (a stalled machine
    // cannot blur them): never two at once in a thread, and the two threads at once.
    const runs = answers.map((a) => a.payload as { threadId: number; startedAt: number; endedAt: number });
    expect(new Set(runs.map((r) => r.threadId)).size).toBe(2);
    const overlap = (x: (typeof runs)[0], y: (typeof runs)[0]) => x.startedAt < y.endedAt && y.startedAt < x.endedAt;
    const pairs = runs.flatMap((x, i) => runs.slice(i + 1).map((y) => [x, y] as const));
    expect(pairs.filter(([x, y]) => x.threadId === y.threadId && overlap(x, y))).toEqual([]);
    expect(pairs.some(([x, y]) => x.threadId !== y.threadId && overlap(x, y))).toBe(true);
  });

  it('answers a handler\'s error as Lambda does: FunctionError Unhandled with its type and message, the thread kept', async () => {
    const failed = await invoke('fail', { message: 'no such thing' });
    expect(failed.functionError).toBe('Unhandled');
    expect(failed.payload).toMatchObject({ errorType: 'TypeError', errorMessage: 'no such thing' });
    expect((await invoke('fail', {})).payload.errorMessage).toBe('broken');
  });

  it('times an invocation out at the function\'s timeout (Sandbox.Timedout) and replaces its thread', async () => {
    const started = Date.now();
    const timedOut = await invoke('hang', {});
    expect(Date.now() - started).toBeGreaterThanOrEqual(HANG_TIMEOUT_MS - 50);
    expect(timedOut.functionError).toBe('Unhandled');
    expect(timedOut.payload).toMatchObject({ errorType: 'Sandbox.Timedout', errorMessage: `Task timed out after ${(HANG_TIMEOUT_MS / 1000).toFixed(2)} seconds` });
    // An asynchronous invocation of it is accepted, fails the same way, and holds nothing up.
    const event = await client.send(new InvokeCommand({ FunctionName: `parley-hang`, InvocationType: 'Event', Payload: Buffer.from('{}') }));
    expect(event.StatusCode).toBe(202);
  });

  it('checks the function\'s AWS calls in its thread under its own grants: without its @connections grant, the fan-out worker\'s post is refused before it leaves', async () => {
    const chunk = { frames: [JSON.stringify({ type: 'typing', roomId: 'r1', userId: 'u1' })], targets: [['conn-1', 'u2', 0]] };
    const out = await invoke(fanoutWorkerFn, chunk);
    expect(denied).toContainEqual({ fn: fanoutWorkerFn, request: expect.objectContaining({ action: 'execute-api:ManageConnections' }) });
    expect(denied.every((d) => d.fn === fanoutWorkerFn)).toBe(true);
    // The refusal fails the worker as API Gateway's 403 would, and is counted as no grant's use.
    expect(out.functionError).toBe('Unhandled');
    expect(out.payload).toMatchObject({ errorType: 'AccessDeniedException', errorMessage: expect.stringContaining('parley-stream-fanout-worker is not authorized to perform: execute-api:ManageConnections') });
    expect(usage.get(WORKER_POSTS)).toBeUndefined();
  });
});
