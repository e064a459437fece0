import { beforeAll, describe, expect, inject, it } from 'vitest';
import { api, createUser, type TestUser } from '#test/support/clients.ts';

// Every list that pages with a cursor: GET /rooms, /rooms/public, /search, a room's history and its
// change feed. A cursor opens only for the list, the parameters and the user it was made for;
// anything else is 400.
const httpUrl = inject('httpUrl');

let ann: TestUser, bo: TestUser;
let roomA: string, roomB: string;
/** Before the changes made in `beforeAll`: the change feeds start here. */
let since: string;

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
  since = new Date(Date.now() - 1000).toISOString();
  for (const r of [roomA, roomB]) {
    for (const content of ['ledger one', 'ledger two', 'ledger three']) {
      const sent = await api(httpUrl, 'POST', `/rooms/${r}/messages`, { token: ann.token, body: { content } });
      expect(sent.status).toBe(201);
      // Each message changed once: three entries in the room's change feed.
      expect((await api(httpUrl, 'PATCH', `/rooms/${r}/messages/${sent.body.id}`, { token: ann.token, body: { content: `${content}, edited` } })).status).toBe(200);
    }
  }
});

interface List {
  path: (room: string) => string;
  query: (room: string) => Record<string, string>;
  /** The query parameter the cursor goes back in. */
  param: 'cursor' | 'since';
  /** The field of the answer that holds the cursor. */
  field: 'nextCursor' | 'cursor';
  /** The list belongs to a room: a cursor of another room is refused. */
  perRoom?: true;
}

/** The lists, each with how to ask for a page of it (in room A unless said otherwise) and where its cursor travels. */
const lists: Record<string, List> = {
  rooms: { path: () => '/rooms', query: () => ({ limit: '1' }), param: 'cursor', field: 'nextCursor' },
  public: { path: () => '/rooms/public', query: () => ({ limit: '1' }), param: 'cursor', field: 'nextCursor' },
  search: { path: () => '/search', query: (r) => ({ q: 'ledger', roomId: r, limit: '1' }), param: 'cursor', field: 'nextCursor' },
  history: { path: (r) => `/rooms/${r}/messages`, query: () => ({ limit: '1' }), param: 'cursor', field: 'nextCursor', perRoom: true },
  changes: { path: (r) => `/rooms/${r}/changes`, query: () => ({ since, limit: '1' }), param: 'since', field: 'cursor', perRoom: true },
};
const names = Object.keys(lists);

/** Asks `l` for its first page, or the page after `cursor`. */
function page(user: TestUser, l: string, cursor?: string, room = roomA) {
  const list = lists[l]!;
  return get(user, list.path(room), { ...list.query(room), ...(cursor !== undefined && { [list.param]: cursor }) });
}

async function cursorOf(user: TestUser, l: string, room = roomA): Promise<string> {
  const res = await page(user, l, undefined, room);
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  const cursor = res.body[lists[l]!.field];
  expect(cursor, l).toEqual(expect.any(String));
  if (l === 'changes') expect(res.body.hasMore).toBe(true);
  return cursor;
}

const idsOf = (res: { body: any }) => res.body.items.map((i: any) => i.id ?? i.room?.id);

async function expectRefused(user: TestUser, path: string, query: Record<string, string>, what: string) {
  const res = await get(user, path, query);
  expect(res.status, `${what}: ${JSON.stringify(res.body)}`).toBe(400);
  expect(res.body.error.code, what).toBe('validation_failed');
  expect(res.body.error.message, what).not.toMatch(/PK|SK|GSI|Dynamo|Exception/);
}

describe('list cursors', () => {
  for (const l of names) {
    it(`${l}: follow to the next page, and reveal nothing of the table`, async () => {
      const cursor = await cursorOf(ann, l);
      const payload = Buffer.from(cursor.split('.')[0]!, 'base64url').toString();
      // Attribute names as keys (ids are random letters and may spell "SK"), or key prefixes.
      expect(payload).not.toMatch(/"(?:PK|SK|GSI1PK|GSI1SK)"|ROOM#|USER#|PUBLIC#|MSG#|CHG#/);
      const next = await page(ann, l, cursor);
      expect(next.status).toBe(200);
      const first = await page(ann, l);
      expect(idsOf(next)).not.toEqual(idsOf(first));
    });

    it(`${l}: refuse hand-made, tampered, truncated and huge cursors, and change nothing`, async () => {
      const cursor = await cursorOf(ann, l);
      const expected = idsOf(await page(ann, l, cursor));
      const [payload, tag] = cursor.split('.') as [string, string];
      const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
      const handMade = ['null', '[]', '{}', '{"o":1}', '[7]', '["x",7]', '["b",2]', '["a",0]', '[0]', '[0,0,1,"edited"]', '{"r":"x"}', '{"PK":"ROOM#x","SK":"ROOM","GSI1PK":"PUBLIC#ROOMS","GSI1SK":"2026#x"}', '"x"', '1e308'];
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
      for (const c of bad) await expectRefused(ann, lists[l]!.path(roomA), { ...lists[l]!.query(roomA), [lists[l]!.param]: c }, `${l} ${c.slice(0, 40)}`);
      // The real cursor still leads to the same page.
      expect(idsOf(await page(ann, l, cursor))).toEqual(expected);
    });

    it(`${l}: refuse another user's cursor`, async () => {
      const bos = await cursorOf(bo, l);
      await expectRefused(ann, lists[l]!.path(roomA), { ...lists[l]!.query(roomA), [lists[l]!.param]: bos }, `${l} from bo`);
      // Bo's still works for Bo.
      expect((await page(bo, l, bos)).status).toBe(200);
    });

    it(`${l}: refuse another list's cursor`, async () => {
      for (const other of names.filter((o) => o !== l)) {
        const theirs = await cursorOf(ann, other);
        await expectRefused(ann, lists[l]!.path(roomA), { ...lists[l]!.query(roomA), [lists[l]!.param]: theirs }, `${other} cursor on ${l}`);
      }
    });

    if (lists[l]!.perRoom) {
      it(`${l}: refuse another room's cursor`, async () => {
        const fromB = await cursorOf(ann, l, roomB);
        await expectRefused(ann, lists[l]!.path(roomA), { ...lists[l]!.query(roomA), [lists[l]!.param]: fromB }, `${l} of room B in room A`);
        expect((await page(ann, l, fromB, roomB)).status).toBe(200);
      });
    }
  }

  for (const l of ['rooms', 'history', 'changes']) {
    it(`${l}: paging through every page with the cursor gives each item once`, async () => {
      const whole = await get(ann, lists[l]!.path(roomA), { ...lists[l]!.query(roomA), limit: '100' });
      expect(whole.status).toBe(200);
      expect(idsOf(whole).length).toBeGreaterThanOrEqual(3);
      const seen: string[] = [];
      let cursor: string | undefined;
      for (let pages = 0; pages < 50; pages++) {
        const res = await page(ann, l, cursor);
        expect(res.status).toBe(200);
        seen.push(...idsOf(res));
        cursor = res.body[lists[l]!.field];
        if (!cursor || res.body.hasMore === false) break;
      }
      expect(seen).toEqual(idsOf(whole));
    });
  }

  it('history: a cursor keeps its direction and goes alone, not with beforeSeq or afterSeq', async () => {
    const newest = await cursorOf(ann, 'history');
    for (const extra of [{ beforeSeq: '3' }, { afterSeq: '0' }] as Record<string, string>[]) {
      await expectRefused(ann, `/rooms/${roomA}/messages`, { limit: '1', cursor: newest, ...extra }, `cursor with ${Object.keys(extra)[0]}`);
    }
    // A catch-up cursor goes on upwards; an older-page cursor downwards; each page follows the last.
    const up = await get(ann, `/rooms/${roomA}/messages`, { afterSeq: '0', limit: '1' });
    const upNext = await get(ann, `/rooms/${roomA}/messages`, { limit: '1', cursor: up.body.nextCursor });
    expect(upNext.body.items[0].seq).toBe(up.body.items[0].seq + 1);
    const down = await get(ann, `/rooms/${roomA}/messages`, { limit: '1' });
    const downNext = await get(ann, `/rooms/${roomA}/messages`, { limit: '1', cursor: down.body.nextCursor });
    expect(downNext.body.items[0].seq).toBe(down.body.items[0].seq - 1);
    // The page size is not part of the list.
    expect((await get(ann, `/rooms/${roomA}/messages`, { limit: '5', cursor: down.body.nextCursor })).status).toBe(200);
  });

  it('changes: a time in since still works, and so does the cursor a previous call answered', async () => {
    const byTime = await get(ann, `/rooms/${roomA}/changes`, { since, limit: '100' });
    expect(byTime.status).toBe(200);
    expect(byTime.body.items.map((m: any) => m.content)).toEqual(['ledger one, edited', 'ledger two, edited', 'ledger three, edited']);
    expect(byTime.body.hasMore).toBe(false);
    expect(byTime.body.cursor).toMatch(/^[\w-]+\.[\w-]+$/);
    const again = await get(ann, `/rooms/${roomA}/changes`, { since: byTime.body.cursor });
    expect(again.status).toBe(200);
    for (const bad of ['yesterday', '2026-13-01T00:00:00Z', '']) await expectRefused(ann, `/rooms/${roomA}/changes`, { since: bad }, `since=${bad}`);
    await expectRefused(ann, `/rooms/${roomA}/changes`, { since, cursor: byTime.body.cursor }, 'a cursor parameter');
  });

  it('members: one page, no cursor handed out and none taken', async () => {
    const res = await get(ann, `/rooms/${roomA}/members`, {});
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(2);
    expect(res.body.nextCursor).toBeUndefined();
    await expectRefused(ann, `/rooms/${roomA}/members`, { cursor: await cursorOf(ann, 'rooms') }, 'a cursor on the member list');
  });

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
