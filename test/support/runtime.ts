import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Where a running runtime answers: what the integration tests are handed. */
export interface RuntimeEndpoints {
  httpUrl: string;
  wsUrl: string;
  callbackUrl: string;
  dynamoEndpoint: string;
  s3Endpoint: string;
  /** The credential `/service/...` requests are SigV4-signed with (printed by `npm start`). */
  service: { accessKeyId: string; secretAccessKey: string; region: string };
}

export interface Runtime extends RuntimeEndpoints {
  /** Everything it printed, for failure messages. */
  output(): string;
  /** What it printed on stderr only. */
  errors(): string;
  /** Sends `signal` (default SIGTERM) and resolves with the exit code once it exited (killed after 15 s). */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/**
 * Runs `bin/local.ts` (what `npm start` runs) in its own process, in memory, on free ports, and
 * resolves once it printed `Parley local stack ready`. `env` adds or overrides variables.
 */
export async function startRuntime(env: Record<string, string> = {}): Promise<Runtime> {
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
      // Every runtime of a test run reports the grants it used (test/integration/global-setup.ts).
      ...(process.env.PARLEY_IAM_USAGE_DIR && { PARLEY_IAM_USAGE_FILE: path.join(process.env.PARLEY_IAM_USAGE_DIR, `${randomUUID()}.json`) }),
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let errors = '';
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`local runtime not ready in 90 s:\n${output}`)), 90_000);
    child.stdout.on('data', (d: Buffer) => {
      output += d.toString();
      if (output.includes('Parley local stack ready')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.stderr.on('data', (d: Buffer) => {
      output += d.toString();
      errors += d.toString();
      if (process.env.PARLEY_TEST_LOGS) process.stderr.write(d);
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`local runtime exited with ${code}:\n${output}`));
    });
  });
  const url = (label: string) => {
    const m = new RegExp(`${label}\\s+(?:POST\\s+)?(\\S+)`).exec(output);
    if (!m) throw new Error(`no ${label} URL in:\n${output}`);
    return m[1]!;
  };
  return {
    httpUrl: url('HTTP API'),
    wsUrl: url('WebSocket API'),
    callbackUrl: url('@connections').replace(/\/@connections.*$/, ''),
    dynamoEndpoint: url('DynamoDB'),
    s3Endpoint: url('S3'),
    service: serviceCredentialIn(output),
    output: () => output,
    errors: () => errors,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode !== null) return child.exitCode;
      const exited = new Promise((r) => child.once('exit', r));
      child.kill(signal);
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (child.exitCode === null) child.kill('SIGKILL');
      return child.exitCode;
    },
  };
}

function serviceCredentialIn(output: string): Runtime['service'] {
  const m = /Service API\s+SigV4 \(execute-api, (\S+)\) access key (\S+) secret (\S+)/.exec(output);
  if (!m) throw new Error(`no service credential in:\n${output}`);
  return { region: m[1]!, accessKeyId: m[2]!, secretAccessKey: m[3]! };
}
