/**
 * One warm "sandbox" of a function, in a worker thread (lambda-threads.ts starts it): the handler
 * module is loaded once and reused by every invocation this thread runs, one at a time, as Lambda
 * reuses a container. Everything a handler gets in the runtime's own thread it gets here too: the
 * environment (shared with the runtime), its function's IAM enforcement (`installIam`, the very
 * call the runtime makes, so the same hooks guard this thread's SDK clients and `@connections`
 * client), and its logs (a worker's console goes to the runtime's).
 */
import { parentPort, workerData } from 'node:worker_threads';
import { createInvoker } from './lambda.ts';
import { installIam, type IamSetup, type LocalIam } from './iam.ts';
import type { IamRequest } from './iam-policy.ts';
import type { ConsumedCapacity } from '@aws-sdk/client-dynamodb';
import type { MeteredCall } from '#shared/adapters/dynamodb/client.ts';

/** What the runtime gives a thread when it starts it. */
export interface ThreadData {
  fn: string;
  functionsDir: string;
  timeoutMs: number;
  /** The runtime's IAM setup; undefined: unchecked (`PARLEY_IAM=off`). */
  iam?: IamSetup;
}

/** What the runtime sends: one invocation, and whether its host observes posts and DynamoDB calls. */
export interface ThreadRequest {
  id: number;
  event: unknown;
  observe: { posts: boolean; capacity: boolean };
}

/** What a thread answers. Times are absolute (`timeOrigin + now`): the runtime maps them onto its clock. */
/** A DynamoDB call a thread's table client metered, as its meter was called (times on the thread's clock, absolute). */
export interface MeterCall {
  operation: string;
  consumed: ConsumedCapacity[];
  call: MeteredCall;
  failure?: { Item: unknown };
}

export type ThreadMessage =
  | { kind: 'denied'; fn: string; request: IamRequest }
  | { kind: 'presigned'; fn: string; signature: string; expires: number }
  /** What the host observes, as it happens: sent before the posts themselves leave. */
  | { kind: 'observed'; posts: [connectionId: string, type: string, at: number][]; calls: MeterCall[] }
  | {
      kind: 'done';
      id: number;
      /** The handler's result as Lambda returns it (JSON), or undefined for none. */
      result?: string;
      error?: { name: string; message: string; stack?: string };
      /** Grants used during the invocation, by label. */
      usage: [string, number][];
    };

const data = workerData as ThreadData;
const port = parentPort!;
const send = (message: ThreadMessage) => port.postMessage(message);

let iam: LocalIam | undefined;
if (data.iam) {
  iam = installIam({
    ...data.iam,
    onDenied: (fn, request) => send({ kind: 'denied', fn, request }),
    // The S3 store asks the runtime's check about the URLs it is given: it hears of this thread's.
    onPresigned: (fn, signature, expires) => send({ kind: 'presigned', fn, signature, expires }),
  });
}
const invoke = createInvoker(data.functionsDir, () => data.timeoutMs);

// What the host observes (the bench's recorder) is told as it happens, a burst at a time: the
// bench counts a message's posts once its recipients have it, so they must not wait for the
// invocation's end. Queued on the tick a burst starts, the message leaves before the posts' requests.
let posts: [string, string, number][] = [];
let calls: MeterCall[] = [];
let flushing = false;
function flush(): void {
  flushing = false;
  if (posts.length === 0 && calls.length === 0) return;
  send({ kind: 'observed', posts, calls });
  posts = [];
  calls = [];
}
const noted = () => {
  if (!flushing) process.nextTick(flush);
  flushing = true;
};
const absolute = (at: number) => performance.timeOrigin + at;
let observing = { posts: false, capacity: false };
async function observe(wanted: ThreadRequest['observe']): Promise<void> {
  if (wanted.posts === observing.posts && wanted.capacity === observing.capacity) return;
  observing = wanted;
  const { configureDeps } = await import('#functions/lib/deps.ts');
  configureDeps({
    ...(wanted.posts && {
      onPost: (connectionId: string, frame: { type: string }) => {
        posts.push([connectionId, frame.type, absolute(performance.now())]);
        noted();
      },
    }),
    ...(wanted.capacity && {
      meter: (operation: string, consumed: ConsumedCapacity[], call: MeteredCall, failure?: unknown) => {
        // A failed condition's error is not cloneable: its found item is all the meter reads of it.
        const found = (failure as { Item?: unknown } | undefined)?.Item;
        calls.push({ operation, consumed, call: { ...call, startedAt: absolute(call.startedAt) }, ...(failure !== undefined && { failure: { Item: found } }) });
        noted();
      },
    }),
  });
}

port.on('message', (request: ThreadRequest) => {
  void (async () => {
    let result: string | undefined;
    let error: { name: string; message: string; stack?: string } | undefined;
    try {
      await observe(request.observe);
      const out = await invoke(data.fn, request.event);
      result = out === undefined ? undefined : JSON.stringify(out);
    } catch (err) {
      const e = err instanceof Error ? err : new Error(String(err));
      error = { name: e.name, message: e.message, ...(e.stack && { stack: e.stack }) };
    }
    const used = iam ? [...iam.usage()] : [];
    iam?.usage().clear();
    flush();
    send({ kind: 'done', id: request.id, ...(result !== undefined && { result }), ...(error && { error }), usage: used });
  })();
});
