import { afterEach, describe, expect, it } from 'vitest';
import { api, createUser, type TestUser } from '#test/support/clients.ts';
import { startRuntime, type Runtime } from '#test/support/runtime.ts';
import { functionsReadingSecret } from '#infra/permissions.ts';

/**
 * The cursor key is read from Secrets Manager once per container. Locally every handler runs in
 * one process, so the first function that needs the key reads it for all: each list function is
 * therefore made the first reader in a runtime of its own, so that its own grant is the one used
 * (and counted by the grant coverage), and one runtime runs without a reader's grant to show the
 * refusal.
 */
const running: Runtime[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((rt) => rt.stop()));
});

async function runtime(env: Record<string, string> = {}): Promise<Runtime> {
  const rt = await startRuntime({ PARLEY_SEND_RATE_LIMIT: '0', PARLEY_WRITE_RATE_LIMIT: '0', ...env });
  running.push(rt);
  return rt;
}

const ok = async (rt: Runtime, user: TestUser, method: string, path: string, body?: unknown): Promise<any> => {
  const res = await api(rt.httpUrl, method, path, { token: user.token, ...(body !== undefined && { body }) });
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
  return res.body;
};

/** Makes `fn` hand out a cursor first thing, which signs it with the key it reads. */
const firstCursor: Record<string, (rt: Runtime, user: TestUser) => Promise<{ status: number; body: any }>> = {
  'http-list-rooms': async (rt, user) => {
    for (const name of ['A', 'B']) await ok(rt, user, 'POST', '/rooms', { type: 'group', name, memberIds: [] });
    return api(rt.httpUrl, 'GET', '/rooms?limit=1', { token: user.token });
  },
  'http-list-public-rooms': async (rt, user) => {
    for (const name of ['A', 'B']) await ok(rt, user, 'POST', '/rooms', { type: 'group', name, visibility: 'public', memberIds: [] });
    return api(rt.httpUrl, 'GET', '/rooms/public?limit=1', { token: user.token });
  },
  'http-search': async (rt, user) => {
    const room = await ok(rt, user, 'POST', '/rooms', { type: 'group', name: 'S', memberIds: [] });
    for (const n of [1, 2]) await ok(rt, user, 'POST', `/rooms/${room.id}/messages`, { content: `needle ${n}` });
    return api(rt.httpUrl, 'GET', '/search?q=needle&limit=1', { token: user.token });
  },
};

describe('the cursor key secret, read under each function\'s own grant', () => {
  it('names exactly the list functions that hand out cursors', () => {
    expect(functionsReadingSecret('cursor-key').sort()).toEqual(Object.keys(firstCursor).sort());
  });

  for (const fn of Object.keys(firstCursor)) {
    it(`lets ${fn} read it through Secrets Manager when it is the first to need it`, async () => {
      const rt = await runtime();
      const user = await createUser(rt.httpUrl, 'ann');
      const res = await firstCursor[fn]!(rt, user);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(typeof res.body.nextCursor).toBe('string');
      expect(rt.output()).not.toContain('AccessDenied');
    }, 120_000);
  }

  it('refuses the read to a function whose grant is missing: the list fails, nothing leaks', async () => {
    const rt = await runtime({ PARLEY_IAM_REVOKE: 'http-search: secretsmanager:GetSecretValue on secret cursor-key' });
    const user = await createUser(rt.httpUrl, 'ann');
    const res = await firstCursor['http-search']!(rt, user);
    expect(res.status).toBe(500);
    expect(res.body).toEqual({ error: { code: 'internal', message: expect.any(String) } });
    expect(JSON.stringify(res.body)).not.toMatch(/secret|AccessDenied|arn:/i);
    expect(rt.output()).toContain('[iam] AccessDenied: parley-http-search may not secretsmanager:GetSecretValue on arn:aws:secretsmanager:');
  }, 120_000);
});
