import { afterEach, describe, expect, it } from 'vitest';
import { api, apiOk, createUser, type TestUser } from '#test/support/clients.ts';
import { startRuntime, type Runtime } from '#test/support/runtime.ts';
import { functionsReadingSecret } from '#infra/permissions.ts';

/**
 * The cursor key is read from Secrets Manager once per container. Locally too each function is a
 * container of its own (functions/lib/deps.ts): in one runtime every list function reads the key
 * itself, under its own grant (counted by the grant coverage), and a function without the grant is
 * refused although others read the key before it.
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

  it('lets each list function read it through Secrets Manager itself, one after another in one runtime', async () => {
    const rt = await runtime();
    const user = await createUser(rt.httpUrl, 'ann');
    for (const fn of Object.keys(firstCursor)) {
      const res = await firstCursor[fn]!(rt, user);
      expect(res.status, `${fn}: ${JSON.stringify(res.body)}`).toBe(200);
      expect(typeof cursorIn(res.body), fn).toBe('string');
    }
    expect(rt.output()).not.toContain('AccessDenied');
  }, 120_000);

  it('refuses the read to each function whose grant is missing, after another function read the key: its list fails, nothing leaks', async () => {
    const [first, ...fns] = Object.keys(firstCursor) as [string, ...string[]];
    const rt = await runtime({ PARLEY_IAM_REVOKE: fns.map((fn) => `${fn}: secretsmanager:GetSecretValue on secret cursor-key`).join('\n') });
    const user = await createUser(rt.httpUrl, 'ann');
    expect((await firstCursor[first]!(rt, user)).status).toBe(200);
    for (const fn of fns) {
      const res = await firstCursor[fn]!(rt, user);
      expect(res.status, fn).toBe(500);
      expect(res.body).toEqual({ error: { code: 'internal', message: expect.any(String) } });
      expect(JSON.stringify(res.body)).not.toMatch(/secret|AccessDenied|arn:/i);
      expect(rt.output()).toContain(`[iam] AccessDenied: parley-${fn} may not secretsmanager:GetSecretValue on arn:aws:secretsmanager:`);
    }
    expect(rt.output()).not.toContain(`parley-${first} may not`);
  }, 180_000);
});
