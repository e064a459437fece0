import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadCursorKey } from '#infra/local/cursor-key.ts';
import { cursorKeyFromEnv } from '#shared/adapters/secrets/cursor-key.ts';
import { ENV } from '#shared/env.ts';

const dir = mkdtempSync(path.join(tmpdir(), 'parley-cursor-key-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('the local cursor key', () => {
  it('is generated once into the data dir and read back after a restart', () => {
    const first = loadCursorKey(dir);
    expect(Buffer.from(first, 'base64url')).toHaveLength(32);
    expect(loadCursorKey(dir)).toBe(first);
    const file = path.join(dir, 'cursor-key');
    expect(readFileSync(file, 'utf8').trim()).toBe(first);
    expect(statSync(file).mode & 0o077).toBe(0);
  });

  it('is new for each process without a data dir', () => {
    expect(loadCursorKey()).not.toBe(loadCursorKey());
  });
});

describe('cursorKeyFromEnv', () => {
  it('uses PARLEY_CURSOR_KEY when set, resolving it once', async () => {
    const value = loadCursorKey();
    const key = cursorKeyFromEnv({ [ENV.cursorKey]: value });
    const a = await key();
    expect(Buffer.from(a).equals(Buffer.from(value, 'base64url'))).toBe(true);
    expect(await key()).toBe(a);
  });

  it('refuses a short key and a deployment that gives none, and tries again on the next call', async () => {
    await expect(cursorKeyFromEnv({ [ENV.cursorKey]: Buffer.alloc(16).toString('base64url') })()).rejects.toThrow(/shorter than 32 bytes/);
    const env: NodeJS.ProcessEnv = {};
    const key = cursorKeyFromEnv(env);
    await expect(key()).rejects.toThrow(ENV.cursorKeySecretArn);
    env[ENV.cursorKey] = loadCursorKey();
    expect((await key()).length).toBe(32);
  });
});
