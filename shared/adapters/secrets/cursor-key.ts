import { ENV } from '#shared/env.ts';
import type { CursorKey } from '#shared/ports/runtime.ts';

const MIN_KEY_BYTES = 32;

/**
 * The cursor key of this process: `PARLEY_CURSOR_KEY` when an operator sets one, else the value of
 * the Secrets Manager secret the stack created (locally: the runtime's Secrets Manager), read on
 * first use and kept for the life of the container. A failed read is tried again by the next request.
 */
export function cursorKeyFromEnv(env: NodeJS.ProcessEnv = process.env): CursorKey {
  let key: Promise<Uint8Array> | undefined;
  return () => {
    key ??= load(env).catch((err: unknown) => {
      key = undefined;
      throw err;
    });
    return key;
  };
}

async function load(env: NodeJS.ProcessEnv): Promise<Uint8Array> {
  const local = env[ENV.cursorKey];
  if (local) return checked(Buffer.from(local, 'base64url'), ENV.cursorKey);
  const secretId = env[ENV.cursorKeySecretArn];
  if (!secretId) throw new Error(`Missing environment variable ${ENV.cursorKeySecretArn} (or ${ENV.cursorKey})`);
  // Loaded on first use: only the list routes need it, and not at cold start.
  const { GetSecretValueCommand, SecretsManagerClient } = await import('@aws-sdk/client-secrets-manager');
  const client = new SecretsManagerClient({});
  try {
    const out = await client.send(new GetSecretValueCommand({ SecretId: secretId }));
    return checked(Buffer.from(out.SecretString ?? '', 'utf8'), ENV.cursorKeySecretArn);
  } finally {
    client.destroy();
  }
}

function checked(key: Buffer, from: string): Uint8Array {
  if (key.length < MIN_KEY_BYTES) throw new Error(`The cursor key from ${from} is shorter than ${MIN_KEY_BYTES} bytes`);
  return key;
}
