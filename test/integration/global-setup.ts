import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    httpUrl: string;
    wsUrl: string;
    callbackUrl: string;
    dynamoEndpoint: string;
    s3Endpoint: string;
  }
}

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * One local runtime per test run: `bin/local.ts` (what `npm start` runs) in its own process,
 * in memory, on free ports. Tests reach it only over HTTP and WebSocket, like real clients.
 */
export default async function setup(project: TestProject) {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bin/local.ts'], {
    cwd: root,
    env: {
      ...process.env,
      PARLEY_IN_MEMORY: '1',
      PARLEY_HTTP_PORT: '0',
      PARLEY_WS_PORT: '0',
      PARLEY_STREAM_POLL_MS: '20',
      PARLEY_TTL_SWEEP_SECONDS: '1',
      DDB_LOCAL_TELEMETRY: '0',
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`local runtime not ready in 60 s:\n${output}`)), 60_000);
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (output.includes('Parley local stack ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
      if (process.env.PARLEY_TEST_LOGS) process.stderr.write(d);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`local runtime exited with ${code}:\n${output}`));
    });
  });
  await ready;
  const url = (label: string) => {
    const m = new RegExp(`${label}\\s+(?:POST\\s+)?(\\S+)`).exec(output);
    if (!m) throw new Error(`no ${label} URL in:\n${output}`);
    return m[1]!;
  };
  project.provide('httpUrl', url('HTTP API'));
  project.provide('wsUrl', url('WebSocket API'));
  project.provide('callbackUrl', url('@connections').replace(/\/@connections.*$/, ''));
  project.provide('dynamoEndpoint', url('DynamoDB'));
  project.provide('s3Endpoint', url('S3'));
  return async () => {
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
    if (child.exitCode === null) child.kill('SIGKILL');
  };
}
