import { afterEach, describe, expect, it } from 'vitest';
import { api, apiOk, createUser, type TestUser } from '#test/support/clients.ts';
import { startRuntime, type Runtime } from '#test/support/runtime.ts';
import { functionsReadingSecret } from '#infra/permissions.ts';

/**
 * The cursor key is read from Secrets Manager once per container. Locally every handler runs in
 * one process, so the first function that needs the key reads it for all: each list function is
 * therefore made the first reader in a runtime of its own, so that its own grant is the one used
 * (and counted by the grant coverage), and one runtime runs without any reader's grant to show
 * each refusal (a failed read is not kept, so every function tries, and is refused, in turn).
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

const ok = (rt: Runtime, user: TestUser, method: string, path: string, body?: unknown) => apiOk(rt.httpUrl, user, method, path, body);

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
  'http-list-messages': async (rt, user) => {
    const room = await ok(rt, user, 'POST', '/rooms', { type: 'group', name: 'H', memberIds: [] });
    for (const n of [1, 2]) await ok(rt, user, 'POST', `/rooms/${room.id}/messages`, { content: `m${n}` });
    return api(rt.httpUrl, 'GET', `/rooms/${room.id}/messages?limit=1`, { token: user.token });
  },
  'http-list-changes': async (rt, user) => {
    const room = await ok(rt, user, 'POST', '/rooms', { type: 'group', name: 'C', memberIds: [] });
    const since = new Date().toISOString();
    const sent = await ok(rt, user, 'POST', `/rooms/${room.id}/messages`, { content: 'm' });
    await ok(rt, user, 'PATCH', `/rooms/${room.id}/messages/${sent.id}`, { content: 'm, edited' });
    return api(rt.httpUrl, 'GET', `/rooms/${room.id}/changes?since=${encodeURIComponent(since)}`, { token: user.token });
  },
};
/** Where each list's answer carries its cursor. */
const cursorIn = (body: any): unknown => body.nextCursor ?? body.cursor;

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
      expect(typeof cursorIn(res.body)).toBe('string');
      expect(rt.output()).not.toContain('AccessDenied');
    }, 120_000);
  }

  it('refuses the read to each function whose grant is missing: its list fails, nothing leaks', async () => {
    const fns = Object.keys(firstCursor);
    const rt = await runtime({ PARLEY_IAM_REVOKE: fns.map((fn) => `${fn}: secretsmanager:GetSecretValue on secret cursor-key`).join('\n') });
    const user = await createUser(rt.httpUrl, 'ann');
    for (const fn of fns) {
      const res = await firstCursor[fn]!(rt, user);
      expect(res.status, fn).toBe(500);
      expect(res.body).toEqual({ error: { code: 'internal', message: expect.any(String) } });
      expect(JSON.stringify(res.body)).not.toMatch(/secret|AccessDenied|arn:/i);
      expect(rt.output()).toContain(`[iam] AccessDenied: parley-${fn} may not secretsmanager:GetSecretValue on arn:aws:secretsmanager:`);
    }
  }, 180_000);
});
