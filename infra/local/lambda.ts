import { randomUUID } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import type { Context } from 'aws-lambda';
import { containersBy } from '#functions/lib/deps.ts';
import { runAs, runningFunction } from './iam.ts';

/** Calls a function of functions/ the way Lambda would: the module's `handler` with an event and a context. */
export type Invoke = (fn: string, event: unknown) => Promise<unknown>;

const TIMEOUT_MS = 30_000;

/**
 * Loads handlers from `functionsDir` on first use (the same files esbuild bundles for Lambda) and
 * invokes them with a Lambda-shaped context. Like Lambda, a module is loaded once and reused, and
 * each function is a container of its own: the ports it builds, and what they keep, are not
 * another function's (deps.ts), though the modules are the process's.
 * `timeoutOf` is what the context's `getRemainingTimeInMillis` counts down from.
 */
export function createInvoker(functionsDir: string, timeoutOf: (fn: string) => number = () => TIMEOUT_MS): Invoke {
  containersBy(runningFunction);
  const modules = new Map<string, Promise<{ handler: (event: unknown, context: Context) => Promise<unknown> }>>();
  return async (fn, event) => {
    let mod = modules.get(fn);
    if (!mod) {
      mod = import(pathToFileURL(path.join(functionsDir, `${fn}.ts`)).href);
      modules.set(fn, mod);
    }
    const { handler } = await mod;
    const started = Date.now();
    const timeoutMs = timeoutOf(fn);
    const context: Context = {
      callbackWaitsForEmptyEventLoop: false,
      functionName: `parley-${fn}`,
      functionVersion: '$LATEST',
      invokedFunctionArn: `arn:aws:lambda:local:000000000000:function:parley-${fn}`,
      memoryLimitInMB: '1024',
      awsRequestId: randomUUID(),
      logGroupName: `/aws/lambda/parley-${fn}`,
      logStreamName: 'local',
      getRemainingTimeInMillis: () => Math.max(0, timeoutMs - (Date.now() - started)),
      done: () => undefined,
      fail: () => undefined,
      succeed: () => undefined,
    };
    // Each AWS call the handler makes is checked against this function's grants (iam.ts).
    return runAs(fn, () => handler(event, context));
  };
}
