import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { SHARE_ENV, Worker } from 'node:worker_threads';
import type { IamSetup } from './iam.ts';
import type { IamRequest } from './iam-policy.ts';
import type { ThreadData, ThreadMessage, ThreadRequest } from './lambda-thread.ts';
import type { PostListener } from '#shared/adapters/apigw/broadcaster.ts';
import type { CapacityMeter } from '#shared/adapters/dynamodb/client.ts';
import type { ServerFrame } from '#shared/schemas/frames.ts';

const require = createRequire(import.meta.url);

/**
 * A worker thread starts from this script: the TypeScript loader the runtime itself runs under
 * (tsx), registered in the thread, then the thread's body. A script rather than a file of the
 * repository, so the thread needs no loader flag from its parent (a test runner's has none).
 */
const BOOT = `
const { workerData } = require('node:worker_threads');
import(workerData.tsxApi)
  .then((tsx) => tsx.register())
  .then(() => import(workerData.entry))
  .catch((err) => setImmediate(() => { throw err; }));
`;

/** tsx's ESM API (its `register()`), by the file URL its package exports it at. */
const tsxApi = (() => {
  const manifest = require.resolve('tsx/package.json');
  const { exports } = require(manifest) as { exports: Record<string, { import: { default: string } }> };
  return pathToFileURL(path.join(path.dirname(manifest), exports['./esm/api']!.import.default)).href;
})();

/** The parent's flags, less tsx's own (the boot script registers it once). */
const execArgv = (() => {
  const out: string[] = [];
  const args = process.execArgv;
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    const value = arg.includes('=') ? arg : args[i + 1];
    if (/^--(import|require|loader|experimental-loader)\b/.test(arg) && /[\\/]tsx[\\/]/.test(value ?? '')) {
      if (!arg.includes('=')) i++;
      continue;
    }
    out.push(arg);
  }
  return out;
})();

export interface LambdaThreadsOptions {
  functionsDir: string;
  /** The functions that run in threads; the others stay in the runtime's thread. */
  functions: ReadonlySet<string>;
  /** Threads (warm containers) a function may have at once; invocations beyond them wait for one. */
  maxThreads: number;
  /** A function's timeout, ms: an invocation still running then fails, and its thread is replaced. */
  timeoutMs(fn: string): number;
  /** The runtime's IAM setup, installed in each thread by the same call; undefined: unchecked. */
  iam?: IamSetup;
  /** A refusal inside a thread, told to the runtime's handler of refusals. */
  onDenied?(fn: string, request: IamRequest): void;
  /** Grant usage counted in the threads is added here (the runtime's `LocalIam.usage()`). */
  usage?: Map<string, number>;
  /** A URL presigned inside a thread, told to the runtime's check (`LocalIam.notePresigned`). */
  onPresigned?(fn: string, signature: string, expires: number): void;
  /** The observers of a host running the runtime (the bench's recorder), asked at each invocation. */
  observers?(): { onPost?: PostListener | undefined; meter?: CapacityMeter | undefined };
}

export interface LambdaThreads {
  /** Whether `fn` runs in threads. */
  runs(fn: string): boolean;
  invoke(fn: string, event: unknown): Promise<unknown>;
  /** Lets running invocations finish, then ends every thread. */
  stop(): Promise<void>;
}

/** A function's error as Lambda reports it to the caller (`errorType`, `errorMessage`). */
export class FunctionError extends Error {
  constructor(type: string, message: string, stack?: string) {
    super(message);
    this.name = type;
    if (stack) this.stack = stack;
  }
}

interface Task {
  id: number;
  event: unknown;
  resolve(value: unknown): void;
  reject(err: Error): void;
}

interface Slot {
  worker: Worker;
  task?: Task;
  timer?: NodeJS.Timeout;
  gone?: true;
}

/**
 * Lambda invocations in worker threads, a pool per function: in AWS each concurrent invocation
 * runs in a sandbox of its own, in parallel; here each runs in a thread of its own, so a fan-out
 * split across invocations of its worker is spread over the machine's cores rather than taking
 * turns in one event loop. Like a sandbox, a thread runs one invocation at a time and is reused
 * (its module state, the SDK clients included, stays warm); a new one starts when every thread is
 * busy, up to `maxThreads`. A handler's error reaches the caller as that error; a timeout as
 * Lambda's `Sandbox.Timedout`, and, as there, the thread is discarded.
 */
export function startLambdaThreads(opts: LambdaThreadsOptions): LambdaThreads {
  const pools = new Map<string, { slots: Slot[]; queue: Task[] }>();
  const running = new Set<Promise<unknown>>();
  let nextId = 1;
  let stopped = false;

  const poolOf = (fn: string) => {
    let pool = pools.get(fn);
    if (!pool) pools.set(fn, (pool = { slots: [], queue: [] }));
    return pool;
  };

  function spawn(fn: string): Slot {
    const data: ThreadData & { entry: string; tsxApi: string } = {
      fn,
      functionsDir: opts.functionsDir,
      timeoutMs: opts.timeoutMs(fn),
      ...(opts.iam && { iam: opts.iam }),
      entry: new URL('./lambda-thread.ts', import.meta.url).href,
      tsxApi,
    };
    const worker = new Worker(BOOT, { eval: true, env: SHARE_ENV, workerData: data, execArgv });
    const slot: Slot = { worker };
    worker.on('message', (message: ThreadMessage) => onMessage(fn, slot, message));
    // A thread that dies (an uncaught error, an exit) fails what it was running, as a crashed
    // sandbox does, and leaves the pool.
    worker.on('error', (err) => retire(fn, slot, new FunctionError('Runtime.ExitError', `parley-${fn}: ${err.message}`, err.stack)));
    worker.on('exit', (code) => retire(fn, slot, new FunctionError('Runtime.ExitError', `parley-${fn}: the runtime exited with code ${code}`)));
    return slot;
  }

  function retire(fn: string, slot: Slot, err: Error): void {
    if (slot.gone) return;
    slot.gone = true;
    clearTimeout(slot.timer);
    const pool = poolOf(fn);
    pool.slots.splice(pool.slots.indexOf(slot), 1);
    const task = slot.task;
    slot.task = undefined;
    task?.reject(err);
    void slot.worker.terminate();
    pump(fn);
  }

  function onMessage(fn: string, slot: Slot, message: ThreadMessage): void {
    if (message.kind === 'denied') {
      opts.onDenied?.(message.fn, message.request);
      return;
    }
    if (message.kind === 'observed') {
      const observers = opts.observers?.();
      // On the thread's clock. A post's listener is given the frame's type, all the thread sends of it.
      const origin = performance.timeOrigin;
      if (observers?.onPost) for (const [connectionId, type, at] of message.posts) observers.onPost(connectionId, { type } as ServerFrame, at - origin);
      if (observers?.meter) for (const c of message.calls) observers.meter(c.operation, c.consumed, { ...c.call, startedAt: c.call.startedAt - origin }, c.failure);
      return;
    }
    if (message.kind === 'presigned') {
      opts.onPresigned?.(message.fn, message.signature, message.expires);
      return;
    }
    const task = slot.task;
    if (!task || task.id !== message.id) return;
    clearTimeout(slot.timer);
    slot.task = undefined;
    for (const [label, n] of message.usage) opts.usage?.set(label, (opts.usage.get(label) ?? 0) + n);
    if (message.error) task.reject(new FunctionError(message.error.name, message.error.message, message.error.stack));
    else task.resolve(message.result === undefined ? undefined : JSON.parse(message.result));
    pump(fn);
  }

  function pump(fn: string): void {
    const pool = poolOf(fn);
    while (pool.queue.length > 0 && !stopped) {
      let slot = pool.slots.find((s) => !s.task);
      if (!slot && pool.slots.length < opts.maxThreads) pool.slots.push((slot = spawn(fn)));
      if (!slot) return;
      const task = pool.queue.shift()!;
      slot.task = task;
      const timeoutMs = opts.timeoutMs(fn);
      const s = slot;
      slot.timer = setTimeout(
        () => retire(fn, s, new FunctionError('Sandbox.Timedout', `Task timed out after ${(timeoutMs / 1000).toFixed(2)} seconds`)),
        timeoutMs,
      );
      const observers = opts.observers?.();
      const request: ThreadRequest = { id: task.id, event: task.event, observe: { posts: !!observers?.onPost, capacity: !!observers?.meter } };
      slot.worker.postMessage(request);
    }
  }

  return {
    runs: (fn) => opts.functions.has(fn),
    invoke(fn, event) {
      if (stopped) return Promise.reject(new FunctionError('Runtime.ExitError', `parley-${fn}: the runtime is stopping`));
      const done = new Promise<unknown>((resolve, reject) => {
        poolOf(fn).queue.push({ id: nextId++, event, resolve, reject });
        pump(fn);
      });
      running.add(done);
      const forget = () => void running.delete(done);
      done.then(forget, forget);
      return done;
    },
    async stop() {
      while (running.size > 0) await Promise.allSettled([...running]);
      stopped = true;
      const slots = [...pools.values()].flatMap((p) => p.slots);
      for (const slot of slots) slot.gone = true;
      await Promise.all(slots.map((s) => s.worker.terminate()));
      pools.clear();
    },
  };
}
