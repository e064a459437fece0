import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, connect, createUser, type TestUser } from '#test/support/clients.ts';
import { startRuntime, type Runtime } from '#test/support/runtime.ts';

// The shared runtime runs without limits; this one has the defaults (10 sends and 30 other writes per 10 s).
let runtime: Runtime;
let ann: TestUser, bo: TestUser;
beforeAll(async () => {
  runtime = await startRuntime();
  [ann, bo] = (await Promise.all(['ann', 'bo'].map((n) => createUser(runtime.httpUrl, n)))) as [TestUser, TestUser];
}, 120_000);
afterAll(() => runtime?.stop());

async function room(owner: TestUser, members: TestUser[]): Promise<string> {
  const res = await api(runtime.httpUrl, 'POST', '/rooms', { token: owner.token, body: { type: 'group', name: 'R', memberIds: members.map((m) => m.userId) } });
  expect(res.status).toBe(201);
  return res.body.id;
}

const history = async (user: TestUser, roomId: string) =>
  (await api(runtime.httpUrl, 'GET', `/rooms/${roomId}/messages?limit=100`, { token: user.token })).body.items as any[];

describe('rate limits', () => {
  it('refuses the 11th send of a burst with 429 and Retry-After, and stores nothing of it', async () => {
    const roomId = await room(ann, [bo]);
    // 25 at once: however a window boundary splits them, at most 10 per window go through.
    const results = await Promise.all(
      Array.from({ length: 25 }, (_, i) => api(runtime.httpUrl, 'POST', `/rooms/${roomId}/messages`, { token: ann.token, body: { content: `m${i}` } })),
    );
    const statuses = results.map((r) => r.status);
    const refused = results.filter((r) => r.status === 429);
    expect(statuses.filter((s) => s === 201).length).toBeGreaterThanOrEqual(10);
    expect(statuses.filter((s) => s === 201).length).toBeLessThanOrEqual(20);
    expect(refused.length).toBe(25 - statuses.filter((s) => s === 201).length);
    for (const r of refused) {
      expect(r.body.error.code).toBe('rate_limited');
      const retryAfter = Number(r.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(10);
    }
    const stored = await history(ann, roomId);
    expect(stored.length).toBe(statuses.filter((s) => s === 201).length);
    // Another user is not affected.
    expect((await api(runtime.httpUrl, 'POST', `/rooms/${roomId}/messages`, { token: bo.token, body: { content: 'mine' } })).status).toBe(201);
  });

  it('refuses the 21st search of a burst with 429 and Retry-After; other users search on', async () => {
    const dee = await createUser(runtime.httpUrl, 'dee');
    await room(dee, []);
    // 45 at once: however a window boundary splits them, at most 20 per window go through.
    const results = await Promise.all(Array.from({ length: 45 }, () => api(runtime.httpUrl, 'GET', '/search?q=anything', { token: dee.token })));
    const ok = results.filter((r) => r.status === 200).length;
    expect(ok).toBeGreaterThanOrEqual(20);
    expect(ok).toBeLessThanOrEqual(40);
    const refused = results.filter((r) => r.status === 429);
    expect(refused.length).toBe(45 - ok);
    for (const r of refused) {
      expect(r.body.error.code).toBe('rate_limited');
      const retryAfter = Number(r.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
    }
    expect((await api(runtime.httpUrl, 'GET', '/search?q=anything', { token: bo.token })).status).toBe(200);
  });

  it('answers a WebSocket burst with error frames carrying rate_limited and retryAfter', async () => {
    const carl = await createUser(runtime.httpUrl, 'carl');
    const roomId = await room(carl, []);
    const socket = await connect(runtime.wsUrl, carl);
    try {
      const answers = await Promise.all(Array.from({ length: 25 }, (_, i) => socket.request({ type: 'message_send', roomId, content: `w${i}` })));
      const errors = answers.filter((a) => a.type === 'error');
      expect(errors.length).toBeGreaterThanOrEqual(5);
      expect(errors[0]).toMatchObject({ code: 'rate_limited', retryAfter: expect.any(Number) });
      expect((await history(carl, roomId)).length).toBe(answers.filter((a) => a.type === 'ack').length);
    } finally {
      await socket.close();
    }
  });

  it('limits other writes too', async () => {
    const dan = await createUser(runtime.httpUrl, 'dan');
    // 70 at once: however a window boundary splits them, at most 30 per window go through.
    const results = await Promise.all(
      Array.from({ length: 70 }, (_, i) => api(runtime.httpUrl, 'PUT', '/me/presence', { token: dan.token, body: { status: i % 2 ? 'away' : 'busy' } })),
    );
    const ok = results.filter((r) => r.status === 200).length;
    expect(ok).toBeGreaterThanOrEqual(30);
    expect(ok).toBeLessThanOrEqual(60);
    expect(results.filter((r) => r.status === 429).length).toBe(70 - ok);
  });
});
