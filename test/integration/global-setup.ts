import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { startRuntime, type RuntimeEndpoints } from '#test/support/runtime.ts';
import { unusedGrants, type GrantUsage } from '#test/support/grant-coverage.ts';

declare module 'vitest' {
  export interface ProvidedContext extends RuntimeEndpoints {}
}

/**
 * One local runtime per test run, in its own process, in memory, on free ports. Tests reach it
 * only over HTTP and WebSocket, like real clients (and DynamoDB Local, to look behind the API).
 *
 * Every runtime of the run (this one and those test files start themselves) writes the grants its
 * handlers used when it stops; after a run of the whole integration project the teardown fails
 * when a grant of the permission table was used by none.
 */
export default async function setup(project: TestProject) {
  const usageDir = mkdtempSync(path.join(os.tmpdir(), 'parley-iam-usage-'));
  process.env.PARLEY_IAM_USAGE_DIR = usageDir;
  // Rate limits off for the shared runtime (other files send bursts); rate-limits.test.ts starts its own with the defaults.
  const runtime = await startRuntime({ PARLEY_SEND_RATE_LIMIT: '0', PARLEY_WRITE_RATE_LIMIT: '0' });
  project.provide('httpUrl', runtime.httpUrl);
  project.provide('wsUrl', runtime.wsUrl);
  project.provide('callbackUrl', runtime.callbackUrl);
  project.provide('dynamoEndpoint', runtime.dynamoEndpoint);
  project.provide('s3Endpoint', runtime.s3Endpoint);
  project.provide('service', runtime.service);
  return async () => {
    await runtime.stop();
    const reports = readdirSync(usageDir).map((f) => JSON.parse(readFileSync(path.join(usageDir, f), 'utf8')) as GrantUsage);
    rmSync(usageDir, { recursive: true, force: true });
    const unused = unusedGrants(reports);
    if (unused.length === 0) return;
    const report = `Grants of infra/permissions.ts no integration test used (remove them, or test the code that needs them):\n  ${unused.join('\n  ')}`;
    if (ranWholeProject(project)) throw new Error(report);
    console.warn(report);
  };
}

/** Whether this run covered every integration test file (a run of a few files uses fewer grants). */
function ranWholeProject(project: TestProject): boolean {
  const files = project.vitest.state.getFiles().filter((f) => f.projectName === project.name);
  const all = readdirSync(path.join(project.config.root, 'test/integration')).filter((f) => f.endsWith('.test.ts'));
  const failed = files.some((f) => f.result?.state === 'fail');
  return !failed && files.length >= all.length;
}
