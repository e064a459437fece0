import type { TestProject } from 'vitest/node';
import { startRuntime } from '#test/support/runtime.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    appUrl: string;
  }
}

/**
 * One local runtime for the browser tests, started as `npm start` starts it (the web app served
 * at `/` of its HTTP port), in memory, on free ports.
 */
export default async function setup(project: TestProject) {
  // The tests send in bursts from one user; the limits have their own integration tests.
  const runtime = await startRuntime({ PARLEY_SEND_RATE_LIMIT: '0', PARLEY_WRITE_RATE_LIMIT: '0', PARLEY_SEARCH_RATE_LIMIT: '0' });
  project.provide('appUrl', runtime.httpUrl);
  return async () => {
    if (process.env.PARLEY_TEST_LOGS) process.stderr.write(runtime.output());
    await runtime.stop();
  };
}
