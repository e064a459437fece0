import type { TestProject } from 'vitest/node';
import { startRuntime, type RuntimeEndpoints } from '#test/support/runtime.ts';

declare module 'vitest' {
  export interface ProvidedContext extends RuntimeEndpoints {}
}

/**
 * One local runtime per test run, in its own process, in memory, on free ports. Tests reach it
 * only over HTTP and WebSocket, like real clients (and DynamoDB Local, to look behind the API).
 */
export default async function setup(project: TestProject) {
  // Rate limits off for the shared runtime (other files send bursts); rate-limits.test.ts starts its own with the defaults.
  const runtime = await startRuntime({ PARLEY_SEND_RATE_LIMIT: '0', PARLEY_WRITE_RATE_LIMIT: '0' });
  project.provide('httpUrl', runtime.httpUrl);
  project.provide('wsUrl', runtime.wsUrl);
  project.provide('callbackUrl', runtime.callbackUrl);
  project.provide('dynamoEndpoint', runtime.dynamoEndpoint);
  project.provide('s3Endpoint', runtime.s3Endpoint);
  project.provide('service', runtime.service);
  return () => runtime.stop();
}
