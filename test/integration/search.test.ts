import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { api, createUser, type TestUser } from '#test/support/clients.ts';
import { startRuntime, type Runtime } from '#test/support/runtime.ts';

// A runtime of its own, whose search reads at most 25 messages a request: cursors are exercised
// by rooms of a few dozen messages.
const BUDGET = 25;
let runtime: Runtime;
let ann: TestUser, bo: TestUser, eve: TestUser;
let roomA: string, roomB: string, roomC: string;

const http = (user: TestUser, method: string, path: string, body?: unknown) => api(runtime.httpUrl, method, path, { token: user.token, ...(body !== undefined && { body }) });

async function room(owner: TestUser, members: TestUser[], name: string): Promise<string> {
  const res = await http(owner, 'POST', '/rooms', { type: 'group', name, memberIds: members.map((m) => m.userId) });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function send(user: TestUser, roomId: string, content: string): Promise<{ id: string; seq: number }> {
  const res = await http(user, 'POST', `/rooms/${roomId}/messages`, { content });
  expect(res.status, JSON.stringify(res.body)).toBe(201);
  return res.body;
}

const search = (user: TestUser, query: Record<string, string>) => http(user, 'GET', `/search?${new URLSearchParams(query)}`);

/** Every result, following `nextCursor` to the end; also how many requests it took. */
async function searchAll(user: TestUser, query: Record<string, string>): Promise<{ items: any[]; requests: number }> {
  const items: any[] = [];
  let cursor: string | undefined;
  let requests = 0;
  do {
    const res = await search(user, { ...query, ...(cursor && { cursor }) });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    items.push(...res.body.items);
    cursor = res.body.nextCursor;
    requests++;
    expect(requests).toBeLessThan(50);
  } while (cursor);
  return { items, requests };
}

beforeAll(async () => {
  runtime = await startRuntime({ PARLEY_SEARCH_SCAN_BUDGET: String(BUDGET), PARLEY_SEND_RATE_LIMIT: '0', PARLEY_WRITE_RATE_LIMIT: '0', PARLEY_SEARCH_RATE_LIMIT: '0' });
  [ann, bo, eve] = (await Promise.all(['ann', 'bo', 'eve'].map((n) => createUser(runtime.httpUrl, n)))) as [TestUser, TestUser, TestUser];
  roomA = await room(ann, [bo], 'Design');
  roomB = await room(ann, [], 'Notes');
  roomC = await room(bo, [eve], 'Elsewhere');
  await send(ann, roomA, 'Payment received for the logo design');
  await send(bo, roomA, 'The café opens at nine');
  await send(bo, roomA, 'Meeting moved to Friday');
  await send(ann, roomA, 'payment pending, PAYMENT soon');
  const secret = await send(ann, roomA, 'secret payment plan');
  expect((await http(ann, 'DELETE', `/rooms/${roomA}/messages/${secret.id}`)).status).toBeLessThan(300);
  await send(ann, roomA, '来週東京に行きます');
  await send(ann, roomB, 'Payment notes for myself');
  await send(bo, roomC, 'Payment received elsewhere');
}, 120_000);
afterAll(() => runtime?.stop());

describe('search', () => {
  it('finds messages containing all the words, whatever their case or accents', async () => {
    const both = await searchAll(ann, { q: 'received PAYMENT' });
    expect(both.items.map((m) => m.content)).toEqual(['Payment received for the logo design']);
    // The full message view: who sent it, where, and its reactions.
    expect(both.items[0]).toMatchObject({ roomId: roomA, senderId: ann.userId, seq: 1, reactions: [] });
    expect((await searchAll(ann, { q: 'cafe' })).items.map((m) => m.content)).toEqual(['The café opens at nine']);
    // Whole words: "pay" is not "payment"; punctuation separates words.
    expect((await searchAll(ann, { q: 'pay' })).items).toEqual([]);
    expect((await searchAll(ann, { q: 'pending' })).items.map((m) => m.content)).toEqual(['payment pending, PAYMENT soon']);
    // Japanese has no spaces between words: a term matches inside the text.
    expect((await searchAll(ann, { q: '東京' })).items.map((m) => m.content)).toEqual(['来週東京に行きます']);
  });

  it('searches only rooms I belong to, newest room first, newest message first, never a deleted one', async () => {
    const mine = await searchAll(ann, { q: 'payment' });
    expect(mine.items.map((m) => [m.roomId, m.content])).toEqual([
      [roomB, 'Payment notes for myself'],
      [roomA, 'payment pending, PAYMENT soon'],
      [roomA, 'Payment received for the logo design'],
    ]);
    // Eve is in room C only.
    expect((await searchAll(eve, { q: 'payment' })).items.map((m) => m.roomId)).toEqual([roomC]);
  });

  it('narrows to one room with roomId, and refuses a room I am not in', async () => {
    expect((await searchAll(ann, { q: 'payment', roomId: roomB })).items.map((m) => m.content)).toEqual(['Payment notes for myself']);
    const outsider = await search(eve, { q: 'payment', roomId: roomA });
    expect(outsider.status).toBe(403);
    expect(outsider.body.error.code).toBe('forbidden');
    const unknown = await search(ann, { q: 'payment', roomId: 'no-such-room' });
    expect(unknown.status).toBe(404);
  });

  it('forgets a room once I leave it', async () => {
    const temp = await room(bo, [ann], 'Temporary');
    await send(bo, temp, 'ephemeral words');
    expect((await searchAll(ann, { q: 'ephemeral' })).items).toHaveLength(1);
    expect((await http(ann, 'DELETE', `/rooms/${temp}/members/${ann.userId}`)).status).toBeLessThan(300);
    expect((await searchAll(ann, { q: 'ephemeral' })).items).toEqual([]);
    expect((await search(ann, { q: 'ephemeral', roomId: temp })).status).toBe(403);
  });

  it('matches what a message says now: an edit changes what it is found by', async () => {
    const m = await send(ann, roomB, 'draft wording');
    expect((await http(ann, 'PATCH', `/rooms/${roomB}/messages/${m.id}`, { content: 'final wording' })).status).toBe(200);
    expect((await searchAll(ann, { q: 'draft' })).items).toEqual([]);
    expect((await searchAll(ann, { q: 'final wording' })).items.map((x) => x.id)).toEqual([m.id]);
  });

  it('pages with nextCursor, and reads at most the budget per request', async () => {
    const big = await room(ann, [bo], 'Busy');
    // 60 messages: every third one mentions invoices.
    for (let i = 1; i <= 60; i++) await send(i % 2 ? ann : bo, big, i % 3 === 0 ? `invoice ${i} sent` : `chatter ${i}`);
    const first = await search(ann, { q: 'invoice', roomId: big, limit: '5' });
    expect(first.status).toBe(200);
    expect(first.body.items.map((m: any) => m.content)).toEqual([60, 57, 54, 51, 48].map((i) => `invoice ${i} sent`));
    expect(first.body.nextCursor).toEqual(expect.any(String));
    const all = await searchAll(ann, { q: 'invoice', roomId: big, limit: '5' });
    expect(all.items.map((m) => m.content)).toEqual(Array.from({ length: 20 }, (_, k) => `invoice ${60 - 3 * k} sent`));
    // With nothing to find, it still stops after the budget and hands a cursor on: 60 messages, 25 a request.
    const none = await search(ann, { q: 'nothing', roomId: big });
    expect(none.body).toEqual({ items: [], nextCursor: expect.any(String) });
    expect((await searchAll(ann, { q: 'nothing', roomId: big })).requests).toBe(Math.ceil(60 / BUDGET));
  });

  it('counts every room it queries against the budget, so many quiet rooms take several requests', async () => {
    const zed = await createUser(runtime.httpUrl, 'zed');
    for (let i = 0; i < 4; i++) await room(zed, [], `Quiet ${i}`);
    // Each query takes at least 10 of the 25: three rooms a request.
    const first = await search(zed, { q: 'anything' });
    expect(first.body).toEqual({ items: [], nextCursor: expect.any(String) });
    expect((await searchAll(zed, { q: 'anything' })).requests).toBe(2);
  });

  it('refuses bad queries and cursors with validation_failed', async () => {
    const cursor = (await search(ann, { q: 'payment', roomId: roomA, limit: '1' })).body.nextCursor;
    expect(cursor).toEqual(expect.any(String));
    const bad: Record<string, string>[] = [
      {},
      { q: '' },
      { q: '!!! ???' },
      { q: 'x'.repeat(201) },
      { q: 'a b c d e f g h i j k' },
      { q: 'payment', limit: '0' },
      { q: 'payment', limit: '51' },
      { q: 'payment', cursor: 'not-a-cursor' },
      { q: 'payment', cursor: Buffer.from('{"r":5}').toString('base64url') },
      // A cursor of one room handed with another room.
      { q: 'payment', roomId: roomB, cursor },
      { q: 'payment', unknown: '1' },
    ];
    for (const query of bad) {
      const res = await search(ann, query);
      expect(res.status, JSON.stringify(query).slice(0, 80)).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
  });

  it('never follows a cursor into a room I do not belong to', async () => {
    // A cursor forged to point at room C (Bo's and Eve's) is not one the server issued: refused.
    const forged = Buffer.from(JSON.stringify({ r: roomC })).toString('base64url');
    const res = await search(ann, { q: 'payment', cursor: forged });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    // A real cursor of Bo's, pointing into room C, is Bo's alone.
    const bos = await search(bo, { q: 'payment', roomId: roomC, limit: '1' });
    expect(bos.body.items.map((m: any) => m.roomId)).toEqual([roomC]);
    expect(bos.body.nextCursor).toEqual(expect.any(String));
    const borrowed = await search(ann, { q: 'payment', roomId: roomC, limit: '1', cursor: bos.body.nextCursor });
    expect(borrowed.status).toBe(400);
    expect(borrowed.body.error.code).toBe('validation_failed');
    // Ann's own pages never reach room C.
    expect((await searchAll(ann, { q: 'payment', limit: '1' })).items.every((m) => m.roomId !== roomC)).toBe(true);
  });

  it('needs a token', async () => {
    expect((await api(runtime.httpUrl, 'GET', '/search?q=payment')).status).toBe(401);
  });
});
