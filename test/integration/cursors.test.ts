import { beforeAll, describe, expect, inject, it } from 'vitest';
import { api, createUser, type TestUser } from '#test/support/clients.ts';

// Every list that pages with a cursor: GET /rooms, /rooms/public and /search. A cursor opens only
// for the list, the parameters and the user it was made for; anything else is 400.
const httpUrl = inject('httpUrl');

let ann: TestUser, bo: TestUser;
let roomA: string, roomB: string;

const get = (user: TestUser, path: string, query: Record<string, string>) => api(httpUrl, 'GET', `${path}?${new URLSearchParams(query)}`, { token: user.token });
const b64 = (s: string) => Buffer.from(s).toString('base64url');

async function room(owner: TestUser, body: Record<string, unknown>): Promise<string> {
  const res = await api(httpUrl, 'POST', '/rooms', { token: owner.token, body: { type: 'group', memberIds: [], ...body } });
  expect(res.status).toBe(201);
  return res.body.id;
}

beforeAll(async () => {
  [ann, bo] = (await Promise.all(['ann', 'bo'].map((n) => createUser(httpUrl, n)))) as [TestUser, TestUser];
  roomA = await room(ann, { name: 'A', visibility: 'public', memberIds: [bo.userId] });
  roomB = await room(ann, { name: 'B', visibility: 'public', memberIds: [bo.userId] });
  await room(ann, { name: 'C', visibility: 'public' });
  for (const r of [roomA, roomB]) {
    for (const content of ['ledger one', 'ledger two', 'ledger three']) {
      expect((await api(httpUrl, 'POST', `/rooms/${r}/messages`, { token: ann.token, body: { content } })).status).toBe(201);
    }
  }
});

/** The lists, each with how to ask for a page of it as a user, and a first page's cursor. */
const lists = {
  rooms: { path: '/rooms', query: { limit: '1' } },
  public: { path: '/rooms/public', query: { limit: '1' } },
  search: { path: '/search', query: () => ({ q: 'ledger', roomId: roomA, limit: '1' }) },
} as const;
const queryOf = (l: keyof typeof lists): Record<string, string> => {
  const q = lists[l].query;
  return typeof q === 'function' ? q() : { ...q };
};

async function cursorOf(user: TestUser, l: keyof typeof lists): Promise<string> {
  const res = await get(user, lists[l].path, queryOf(l));
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  expect(res.body.nextCursor, l).toEqual(expect.any(String));
  return res.body.nextCursor;
}

async function expectRefused(user: TestUser, path: string, query: Record<string, string>, what: string) {
  const res = await get(user, path, query);
  expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(400);
  expect(res.body.error.code, what).toBe('validation_failed');
  expect(res.body.error.message, what).not.toMatch(/PK|SK|GSI|Dynamo|Exception/);
}

describe('list cursors', () => {
  for (const l of Object.keys(lists) as (keyof typeof lists)[]) {
    it(`${l}: follow to the next page, and reveal nothing of the table`, async () => {
      const cursor = await cursorOf(ann, l);
      const payload = Buffer.from(cursor.split('.')[0]!, 'base64url').toString();
      // Key names as words: a ULID in the payload may spell "SK" by chance (one in about forty).
      expect(payload).not.toMatch(/\b(PK|SK|GSI\w*)\b|ROOM#|USER#|PUBLIC#|MSG#/);
      const next = await get(ann, lists[l].path, { ...queryOf(l), cursor });
      expect(next.status).toBe(200);
      const first = await get(ann, lists[l].path, queryOf(l));
      const ids = (r: typeof next) => r.body.items.map((i: any) => i.id ?? i.room?.id);
      expect(ids(next)).not.toEqual(ids(first));
    });

    it(`${l}: refuse hand-made, tampered, truncated and huge cursors`, async () => {
      const cursor = await cursorOf(ann, l);
      const [payload, tag] = cursor.split('.') as [string, string];
      const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
      const handMade = ['null', '[]', '{}', '{"o":1}', '[7]', '["x",7]', '{"r":"x"}', '{"PK":"ROOM#x","SK":"ROOM","GSI1PK":"PUBLIC#ROOMS","GSI1SK":"2026#x"}', '"x"', '1e308'];
      const bad = [
        ...handMade.flatMap((json) => [b64(json), `${b64(json)}.${tag}`]),
        `${flip(payload, 1)}.${tag}`,
        `${payload}.${flip(tag, 5)}`,
        cursor.slice(0, -1),
        cursor.slice(0, 8),
        payload,
        `${cursor}x`,
        'A'.repeat(2000),
        '%00',
        '.',
      ];
      for (const c of bad) await expectRefused(ann, lists[l].path, { ...queryOf(l), cursor: c }, `${l} ${c.slice(0, 40)}`);
    });

    it(`${l}: refuse another user's cursor`, async () => {
      const bos = await cursorOf(bo, l);
      await expectRefused(ann, lists[l].path, { ...queryOf(l), cursor: bos }, `${l} from bo`);
      // Bo's still works for Bo.
      expect((await get(bo, lists[l].path, { ...queryOf(l), cursor: bos })).status).toBe(200);
    });

    it(`${l}: refuse another list's cursor`, async () => {
      for (const other of (Object.keys(lists) as (keyof typeof lists)[]).filter((o) => o !== l)) {
        const theirs = await cursorOf(ann, other);
        await expectRefused(ann, lists[l].path, { ...queryOf(l), cursor: theirs }, `${other} cursor on ${l}`);
      }
    });
  }

  it('search: refuse a cursor with another room, another query or no room', async () => {
    const cursor = await cursorOf(ann, 'search');
    await expectRefused(ann, '/search', { q: 'ledger', roomId: roomB, limit: '1', cursor }, 'another room');
    await expectRefused(ann, '/search', { q: 'ledger two', roomId: roomA, limit: '1', cursor }, 'another query');
    await expectRefused(ann, '/search', { q: 'ledger', limit: '1', cursor }, 'all rooms');
    // The page size is not part of the list: a cursor serves any limit.
    expect((await get(ann, '/search', { q: 'ledger', roomId: roomA, limit: '2', cursor })).status).toBe(200);
  });

  it('rooms: a user in more rooms than one index page holds gets them all, page after page', async () => {
    // Memberships are read 100 at a time from the user index: 105 rooms take two of its pages.
    const fay = await createUser(httpUrl, 'fay');
    const made = new Set<string>();
    for (let i = 0; i < 105; i += 15) {
      const ids = await Promise.all(Array.from({ length: Math.min(15, 105 - i) }, (_, k) => room(fay, { name: `R${i + k}` })));
      for (const id of ids) made.add(id);
    }
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const res = await get(fay, '/rooms', { limit: '40', ...(cursor && { cursor }) });
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((i: any) => i.room.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(new Set(seen).size).toBe(105);
    expect(new Set(seen)).toEqual(made);
  }, 60_000);
});
