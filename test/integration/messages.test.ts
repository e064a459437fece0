import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { api, connect, createUser, type TestSocket, type TestUser } from '#test/support/clients.ts';
import { startRuntime, type Runtime } from '#test/support/runtime.ts';
import { sleep } from '#test/support/sdk.ts';

const httpUrl = inject('httpUrl');
const wsUrl = inject('wsUrl');

async function room(owner: TestUser, members: TestUser[], name = 'Room'): Promise<string> {
  const res = await api(httpUrl, 'POST', '/rooms', { token: owner.token, body: { type: 'group', name, memberIds: members.map((m) => m.userId) } });
  expect(res.status).toBe(201);
  return res.body.id;
}

async function send(user: TestUser, roomId: string, body: Record<string, unknown>) {
  return api(httpUrl, 'POST', `/rooms/${roomId}/messages`, { token: user.token, body });
}

/**
 * A send as a client makes it in a burst: a 503 (its seq not taken before the send's deadline,
 * which a burst of 250 into one room reaches on a slow machine busy with the other test files) is
 * sent again after its Retry-After, with the same clientMessageId, until the test's own timeout.
 */
async function sendAsClient(user: TestUser, roomId: string, body: Record<string, unknown>) {
  const withId = { clientMessageId: randomUUID(), ...body };
  for (;;) {
    const res = await send(user, roomId, withId);
    if (res.status !== 503) return res;
    await sleep(Number(res.headers.get('retry-after') ?? 1) * 1000);
  }
}

async function history(user: TestUser, roomId: string, query = '') {
  return api(httpUrl, 'GET', `/rooms/${roomId}/messages${query}`, { token: user.token });
}

/** Every message of the room in seq order: from afterSeq=0, then page after page with the cursor. */
async function allMessages(user: TestUser, roomId: string) {
  const items: any[] = [];
  for (let query = '?afterSeq=0&limit=100'; ; ) {
    const page = await history(user, roomId, query);
    expect(page.status).toBe(200);
    items.push(...page.body.items);
    if (!page.body.nextCursor) return items;
    query = `?limit=100&cursor=${encodeURIComponent(page.body.nextCursor)}`;
  }
}

let ann: TestUser, bo: TestUser, cy: TestUser, eve: TestUser;
beforeAll(async () => {
  [ann, bo, cy, eve] = await Promise.all(['ann', 'bo', 'cy', 'eve'].map((n) => createUser(httpUrl, n))) as [TestUser, TestUser, TestUser, TestUser];
});

describe('sending', () => {
  it('refuses what is not a valid message, and stores nothing', async () => {
    const roomId = await room(ann, [bo]);
    const refusals = [
      { content: 'x'.repeat(4001) },
      { content: '' },
      { content: 'hi', messageType: 'system' },
      { content: 'hi', messageType: 'payment' },
      { content: 'hi', metadata: { blob: 'y'.repeat(8 * 1024) } },
      { content: 'hi', replyTo: 'nope' },
      { content: 'hi', unknownField: 1 },
    ];
    for (const body of refusals) {
      const res = await send(ann, roomId, body);
      expect(res.status, JSON.stringify(body).slice(0, 60)).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
    }
    const socket = await connect(wsUrl, ann);
    try {
      const tooLong = await socket.request({ type: 'message_send', roomId, content: 'x'.repeat(4001) });
      expect(tooLong).toMatchObject({ type: 'error', code: 'validation_failed' });
    } finally {
      await socket.close();
    }
    expect((await history(ann, roomId)).body.items).toEqual([]);
    // 4,000 characters (emoji count as one each) are fine.
    expect((await send(ann, roomId, { content: '😀'.repeat(4000) })).status).toBe(201);
  });

  it('numbers 5 users × 50 concurrent sends 1..250, without gap or duplicate', async () => {
    const users = await Promise.all([1, 2, 3, 4, 5].map((i) => createUser(httpUrl, `sender${i}`)));
    const roomId = await room(users[0]!, users.slice(1));
    const results = await Promise.all(
      users.flatMap((u) => Array.from({ length: 50 }, (_, i) => sendAsClient(u, roomId, { content: `${u.userId} #${i}` }))),
    );
    expect(results.map((r) => r.status).filter((status) => status !== 201)).toEqual([]);
    expect(results.map((r) => r.body.seq).sort((a, b) => a - b)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
    const stored = await allMessages(users[0]!, roomId);
    expect(stored.map((m) => m.seq)).toEqual(Array.from({ length: 250 }, (_, i) => i + 1));
    expect(new Set(stored.map((m) => m.id)).size).toBe(250);
  }, 240_000);

  it('stores one message for racing retries of a clientMessageId, and returns it to each', async () => {
    const roomId = await room(ann, [bo]);
    const clientMessageId = randomUUID();
    const attempts = await Promise.all(Array.from({ length: 6 }, () => send(ann, roomId, { content: 'once', clientMessageId })));
    expect(attempts.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 200, 201]);
    expect(new Set(attempts.map((a) => a.body.id)).size).toBe(1);
    const later = await send(ann, roomId, { content: 'once', clientMessageId });
    expect(later.status).toBe(200);
    expect(later.body.id).toBe(attempts[0]!.body.id);
    // The same clientMessageId from someone else is their own message.
    const bos = await send(bo, roomId, { content: 'mine', clientMessageId });
    expect(bos.status).toBe(201);
    const stored = await allMessages(ann, roomId);
    expect(stored.map((m) => m.content)).toEqual(['once', 'mine']);
  });

  it('remembers a clientMessageId across the sender\'s later sends', async () => {
    const roomId = await room(ann, []);
    const first = await send(ann, roomId, { content: 'first', clientMessageId: 'c-first' });
    for (let i = 0; i < 5; i++) await send(ann, roomId, { content: `then ${i}`, clientMessageId: `c-${i}` });
    const retry = await send(ann, roomId, { content: 'first', clientMessageId: 'c-first' });
    expect(retry.status).toBe(200);
    expect(retry.body.id).toBe(first.body.id);
    expect((await allMessages(ann, roomId)).length).toBe(6);
  });

  it('acks the sender at once and delivers message_new to the sender\'s other devices', async () => {
    const roomId = await room(ann, [bo]);
    const [phone, laptop] = await Promise.all([connect(wsUrl, ann), connect(wsUrl, ann)]);
    try {
      const ack = await phone.request({ type: 'message_send', roomId, content: 'from the phone', clientMessageId: 'p1' });
      expect(ack).toMatchObject({ type: 'ack', result: { content: 'from the phone', clientMessageId: 'p1', seq: 1 } });
      const onLaptop = await laptop.next((f) => f.type === 'message_new' && f.message.id === ack.result.id);
      expect(onLaptop.message.clientMessageId).toBe('p1');
      const retried = await phone.request({ type: 'message_send', roomId, content: 'from the phone', clientMessageId: 'p1' });
      expect(retried.result.id).toBe(ack.result.id);
    } finally {
      await Promise.all([phone.close(), laptop.close()]);
    }
  });
});

describe('history and catch-up', () => {
  it('pages newest first with beforeSeq or the cursor, and ascending after afterSeq', async () => {
    const roomId = await room(ann, [bo]);
    for (let i = 1; i <= 7; i++) await send(ann, roomId, { content: `m${i}` });
    const newest = await history(bo, roomId, '?limit=3');
    expect(newest.body.items.map((m: any) => m.seq)).toEqual([7, 6, 5]);
    // Opaque: not the seq it goes on from.
    expect(newest.body.nextCursor).toEqual(expect.any(String));
    expect(newest.body.nextCursor).not.toMatch(/^\d+$/);
    const older = await history(bo, roomId, `?limit=3&cursor=${encodeURIComponent(newest.body.nextCursor)}`);
    expect(older.body.items.map((m: any) => m.seq)).toEqual([4, 3, 2]);
    expect((await history(bo, roomId, '?limit=3&beforeSeq=5')).body.items.map((m: any) => m.seq)).toEqual([4, 3, 2]);
    const oldest = await history(bo, roomId, `?limit=3&cursor=${encodeURIComponent(older.body.nextCursor)}`);
    expect(oldest.body.items.map((m: any) => m.seq)).toEqual([1]);
    expect(oldest.body.nextCursor).toBeUndefined();
    expect((await history(bo, roomId, '?limit=3&beforeSeq=2')).body.items.map((m: any) => m.seq)).toEqual([1]);
    const missed = await history(bo, roomId, '?afterSeq=4');
    expect(missed.body.items.map((m: any) => m.seq)).toEqual([5, 6, 7]);
    const up = await history(bo, roomId, '?afterSeq=2&limit=2');
    expect(up.body.items.map((m: any) => m.seq)).toEqual([3, 4]);
    expect((await history(bo, roomId, `?limit=2&cursor=${encodeURIComponent(up.body.nextCursor)}`)).body.items.map((m: any) => m.seq)).toEqual([5, 6]);
    expect((await history(bo, roomId)).body.items).toHaveLength(7);
    for (const bad of ['?limit=101', '?limit=0', '?beforeSeq=3&afterSeq=1', '?afterSeq=-1', '?limit=ten', '?order=asc', '?cursor=5', `?cursor=${encodeURIComponent(newest.body.nextCursor)}&beforeSeq=5`]) {
      const res = await history(bo, roomId, bad);
      expect(res.status, bad).toBe(400);
    }
    expect((await history(eve, roomId)).status).toBe(403);
  });

  it('tells a returning client which messages it has were edited, deleted or reacted to', async () => {
    const roomId = await room(ann, [bo]);
    const sent = [];
    for (let i = 1; i <= 4; i++) sent.push((await send(ann, roomId, { content: `m${i}` })).body);
    const leftAt = new Date().toISOString();
    const before = await api(httpUrl, 'GET', `/rooms/${roomId}/changes?since=${encodeURIComponent(leftAt)}`, { token: bo.token });
    expect(before.status).toBe(200);
    const untouchedIds = new Set(before.body.items.map((m: any) => m.id));

    await new Promise((r) => setTimeout(r, 6000)); // past the skew allowance, so only new changes count
    const since = new Date().toISOString();
    await api(httpUrl, 'PATCH', `/rooms/${roomId}/messages/${sent[0].id}`, { token: ann.token, body: { content: 'm1, edited' } });
    await api(httpUrl, 'DELETE', `/rooms/${roomId}/messages/${sent[1].id}`, { token: ann.token });
    await api(httpUrl, 'PUT', `/rooms/${roomId}/messages/${sent[2].id}/reactions/${encodeURIComponent('👍')}`, { token: bo.token });

    const changes = await api(httpUrl, 'GET', `/rooms/${roomId}/changes?since=${encodeURIComponent(since)}`, { token: bo.token });
    expect(changes.status).toBe(200);
    const byId = new Map(changes.body.items.map((m: any) => [m.id, m]));
    expect([...byId.keys()].sort()).toEqual([sent[0].id, sent[1].id, sent[2].id].sort());
    expect(byId.get(sent[0].id)).toMatchObject({ content: 'm1, edited', editedAt: expect.any(String) });
    expect(byId.get(sent[1].id)).toMatchObject({ content: '', deletedAt: expect.any(String) });
    expect(byId.get(sent[2].id)).toMatchObject({ reactions: [{ emoji: '👍', count: 1, me: true }] });
    expect(byId.has(sent[3].id)).toBe(false);
    expect(untouchedIds.size).toBe(0);
    expect(changes.body.cursor).toEqual(expect.any(String));

    expect((await api(httpUrl, 'GET', `/rooms/${roomId}/changes`, { token: bo.token })).status).toBe(400);
    expect((await api(httpUrl, 'GET', `/rooms/${roomId}/changes?since=yesterday`, { token: bo.token })).status).toBe(400);
    expect((await api(httpUrl, 'GET', `/rooms/${roomId}/changes?since=${encodeURIComponent(since)}`, { token: eve.token })).status).toBe(403);
  }, 30_000);
});

describe('replies', () => {
  it('carries id, seq, sender and an excerpt of the message replied to', async () => {
    const roomId = await room(ann, [bo]);
    const original = (await send(ann, roomId, { content: 'a'.repeat(300) })).body;
    const reply = await send(bo, roomId, { content: 'agreed', replyTo: original.id });
    expect(reply.status).toBe(201);
    expect(reply.body.replyTo).toMatchObject({ id: original.id, seq: original.seq, senderId: ann.userId });
    expect([...reply.body.replyTo.excerpt].length).toBeLessThanOrEqual(120);
  });

  it('refuses a reply to a message of another room, or to none', async () => {
    const [roomA, roomB] = await Promise.all([room(ann, [bo]), room(ann, [bo])]);
    const inB = (await send(ann, roomB, { content: 'in B' })).body;
    const res = await send(ann, roomA, { content: 'reply', replyTo: inB.id });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe('validation_failed');
    const forged = `${inB.id.slice(0, 26)}zz`;
    expect((await send(ann, roomA, { content: 'reply', replyTo: forged })).status).toBe(400);
    expect((await history(ann, roomA)).body.items).toEqual([]);
  });
});

describe('edits and deletes', () => {
  it('lets the sender edit, tells the room, and refuses everyone else', async () => {
    const roomId = await room(ann, [bo]);
    const boSocket = await connect(wsUrl, bo);
    try {
      const m = (await send(ann, roomId, { content: 'draft' })).body;
      const byBo = await api(httpUrl, 'PATCH', `/rooms/${roomId}/messages/${m.id}`, { token: bo.token, body: { content: 'hijacked' } });
      expect(byBo.status).toBe(403);
      const byEve = await api(httpUrl, 'PATCH', `/rooms/${roomId}/messages/${m.id}`, { token: eve.token, body: { content: 'hijacked' } });
      expect(byEve.status).toBe(403);
      const empty = await api(httpUrl, 'PATCH', `/rooms/${roomId}/messages/${m.id}`, { token: ann.token, body: { content: ' ' } });
      expect(empty.status).toBe(400);
      const edited = await api(httpUrl, 'PATCH', `/rooms/${roomId}/messages/${m.id}`, { token: ann.token, body: { content: 'final' } });
      expect(edited.status).toBe(200);
      expect(edited.body).toMatchObject({ id: m.id, seq: m.seq, content: 'final', editedAt: expect.any(String) });
      const event = await boSocket.next((f) => f.type === 'message_edited' && f.message.id === m.id);
      expect(event.message.content).toBe('final');
      expect((await api(httpUrl, 'GET', `/rooms/${roomId}/messages/${m.id}`, { token: bo.token })).body.content).toBe('final');
      const wsRefusal = await boSocket.request({ type: 'message_edit', roomId, messageId: m.id, content: 'again' });
      expect(wsRefusal).toMatchObject({ type: 'error', code: 'forbidden' });
    } finally {
      await boSocket.close();
    }
  });

  it('leaves a tombstone on delete, tells the room, refuses members deleting others\' messages, and refuses editing it after', async () => {
    const roomId = await room(ann, [bo, cy]);
    const cySocket = await connect(wsUrl, cy);
    try {
      const m = (await send(bo, roomId, { content: 'oops', metadata: { secret: 1 } })).body;
      const byCy = await api(httpUrl, 'DELETE', `/rooms/${roomId}/messages/${m.id}`, { token: cy.token });
      expect(byCy.status).toBe(403);
      const byEve = await api(httpUrl, 'DELETE', `/rooms/${roomId}/messages/${m.id}`, { token: eve.token });
      expect(byEve.status).toBe(403);
      const deleted = await api(httpUrl, 'DELETE', `/rooms/${roomId}/messages/${m.id}`, { token: bo.token });
      expect(deleted.status).toBe(200);
      expect(deleted.body).toMatchObject({ id: m.id, seq: m.seq, content: '', attachments: [], deletedAt: expect.any(String) });
      expect(deleted.body.metadata).toBeUndefined();
      expect(await cySocket.next((f) => f.type === 'message_deleted' && f.messageId === m.id)).toMatchObject({ roomId, seq: m.seq });
      const [stored] = (await history(cy, roomId)).body.items;
      expect(stored).toMatchObject({ id: m.id, seq: m.seq, content: '', deletedAt: expect.any(String) });
      const edit = await api(httpUrl, 'PATCH', `/rooms/${roomId}/messages/${m.id}`, { token: bo.token, body: { content: 'back' } });
      expect(edit.status).toBe(409);
      // The admin (the room's creator) may delete anyone's message.
      const other = (await send(cy, roomId, { content: 'rude' })).body;
      expect((await api(httpUrl, 'DELETE', `/rooms/${roomId}/messages/${other.id}`, { token: ann.token })).status).toBe(200);
    } finally {
      await cySocket.close();
    }
  });

  describe('with an edit window of 1 second', () => {
    let runtime: Runtime;
    beforeAll(async () => {
      runtime = await startRuntime({
        PARLEY_EDIT_WINDOW_SECONDS: '1',
        PARLEY_MAX_MESSAGE_LENGTH: '10',
        PARLEY_TABLE_NAME: `edit-window-${randomUUID().slice(0, 8)}`,
        AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoEndpoint'),
      });
    }, 90_000);
    afterAll(() => runtime?.stop());

    it('refuses an edit once the window has passed, and applies the configured length limit', async () => {
      const dan = await createUser(runtime.httpUrl, 'dan');
      const roomId = (await api(runtime.httpUrl, 'POST', '/rooms', { token: dan.token, body: { type: 'group', name: 'w' } })).body.id;
      const tooLong = await api(runtime.httpUrl, 'POST', `/rooms/${roomId}/messages`, { token: dan.token, body: { content: 'eleven char' } });
      expect(tooLong.status).toBe(400);
      const m = (await api(runtime.httpUrl, 'POST', `/rooms/${roomId}/messages`, { token: dan.token, body: { content: 'ten chars!' } })).body;
      await new Promise((r) => setTimeout(r, 1500));
      const late = await api(runtime.httpUrl, 'PATCH', `/rooms/${roomId}/messages/${m.id}`, { token: dan.token, body: { content: 'too late' } });
      expect(late.status).toBe(403);
      expect(late.body.error.message).toMatch(/edited for 1 seconds/);
    });
  });
});

describe('reactions', () => {
  const path = (roomId: string, messageId: string, emoji: string) => `/rooms/${roomId}/messages/${messageId}/reactions/${encodeURIComponent(emoji)}`;

  it('counts one reaction per user and emoji, tells the room the new count, and shows them on the message', async () => {
    const roomId = await room(ann, [bo, cy]);
    const cySocket = await connect(wsUrl, cy);
    try {
      const m = (await send(ann, roomId, { content: 'ship it?' })).body;
      const first = await api(httpUrl, 'PUT', path(roomId, m.id, '👍'), { token: bo.token });
      expect(first.status).toBe(200);
      expect(first.body.reactions).toEqual([{ emoji: '👍', count: 1, me: true }]);
      expect(await cySocket.next((f) => f.type === 'reaction_added' && f.messageId === m.id)).toMatchObject({ emoji: '👍', userId: bo.userId, count: 1, roomId });
      const again = await api(httpUrl, 'PUT', path(roomId, m.id, '👍'), { token: bo.token });
      expect(again.body.reactions).toEqual([{ emoji: '👍', count: 1, me: true }]);
      await api(httpUrl, 'PUT', path(roomId, m.id, '👍'), { token: cy.token });
      await api(httpUrl, 'PUT', path(roomId, m.id, '👩🏽‍💻'), { token: cy.token });
      await cySocket.next((f) => f.type === 'reaction_added' && f.emoji === '👍' && f.count === 2);
      const seen = (await history(ann, roomId)).body.items[0];
      expect(seen.reactions).toEqual([
        { emoji: '👍', count: 2, me: false },
        { emoji: '👩🏽‍💻', count: 1, me: false },
      ]);
      const removed = await api(httpUrl, 'DELETE', path(roomId, m.id, '👍'), { token: bo.token });
      expect(removed.status).toBe(200);
      expect(await cySocket.next((f) => f.type === 'reaction_removed' && f.messageId === m.id)).toMatchObject({ emoji: '👍', count: 1, userId: bo.userId });
      const missing = await api(httpUrl, 'DELETE', path(roomId, m.id, '🎉'), { token: bo.token });
      expect(missing.status).toBe(200);
      // One reaction_added per real change: the second 👍 by bo sent nothing.
      expect(cySocket.frames.filter((f) => f.type === 'reaction_added' && f.userId === bo.userId)).toHaveLength(1);
      const ws = await cySocket.request({ type: 'reaction_add', roomId, messageId: m.id, emoji: '🎉' });
      expect(ws.type).toBe('ack');
    } finally {
      await cySocket.close();
    }
  });

  it('refuses what is not one emoji, non-members, and a 51st distinct emoji', async () => {
    const roomId = await room(ann, [bo]);
    const m = (await send(ann, roomId, { content: 'react' })).body;
    for (const bad of ['a', '👍👍', ':)', 'thumbsup']) {
      const res = await api(httpUrl, 'PUT', path(roomId, m.id, bad), { token: bo.token });
      expect(res.status, bad).toBe(400);
    }
    expect((await api(httpUrl, 'PUT', path(roomId, m.id, '👍'), { token: eve.token })).status).toBe(403);
    const emoji = [...'😀😃😄😁😆😅😂🤣😊😇🙂🙃😉😌😍🥰😘😗😙😚😋😛😝😜🤪🤨🧐🤓😎🤩🥳😏😒😞😔😟😕🙁😣😖😫😩🥺😢😭😤😠😡🤬🤯'];
    expect(emoji).toHaveLength(50);
    for (const e of emoji) expect((await api(httpUrl, 'PUT', path(roomId, m.id, e), { token: ann.token })).status).toBe(200);
    const fiftyFirst = await api(httpUrl, 'PUT', path(roomId, m.id, '🥶'), { token: bo.token });
    expect(fiftyFirst.status).toBe(400);
    // An emoji already there can still be added by others.
    expect((await api(httpUrl, 'PUT', path(roomId, m.id, '😀'), { token: bo.token })).status).toBe(200);
  }, 60_000);
});

describe('read receipts and unread counts', () => {
  it('moves the read mark forward only, tells the room, and counts unread messages from others', async () => {
    const roomId = await room(ann, [bo]);
    const annSocket = await connect(wsUrl, ann);
    try {
      const msgs = [];
      for (let i = 1; i <= 4; i++) msgs.push((await send(ann, roomId, { content: `m${i}` })).body);
      const roomsOf = async (u: TestUser) => (await api(httpUrl, 'GET', '/rooms', { token: u.token })).body.items.find((i: any) => i.room.id === roomId);
      expect(await roomsOf(bo)).toMatchObject({ unreadCount: 4, lastReadSeq: 0, lastMessage: { content: 'm4' } });
      expect(await roomsOf(ann)).toMatchObject({ unreadCount: 0, lastReadSeq: 4 });

      const read = await api(httpUrl, 'POST', `/rooms/${roomId}/read`, { token: bo.token, body: { messageId: msgs[2].id } });
      expect(read.body).toEqual({ lastReadSeq: 3, unreadCount: 1 });
      expect(await annSocket.next((f) => f.type === 'messages_read')).toMatchObject({
        roomId,
        userId: bo.userId,
        messageId: msgs[2].id,
        seq: 3,
        readAt: expect.any(String),
      });
      const back = await api(httpUrl, 'POST', `/rooms/${roomId}/read`, { token: bo.token, body: { messageId: msgs[0].id } });
      expect(back.body).toEqual({ lastReadSeq: 3, unreadCount: 1 });
      const unread = await api(httpUrl, 'GET', '/unread', { token: bo.token });
      expect(unread.body.rooms).toContainEqual({ roomId, unreadCount: 1 });
      expect(unread.body.total).toBeGreaterThanOrEqual(1);

      const withReaders = await api(httpUrl, 'GET', `/rooms/${roomId}/messages/${msgs[2].id}`, { token: ann.token });
      expect(withReaders.body.readBy).toEqual([{ userId: bo.userId, readAt: expect.any(String) }]);
      const notYet = await api(httpUrl, 'GET', `/rooms/${roomId}/messages/${msgs[3].id}`, { token: ann.token });
      expect(notYet.body.readBy).toEqual([]);

      // Bo's own send marks everything up to it read.
      await send(bo, roomId, { content: 'caught up' });
      expect(await roomsOf(bo)).toMatchObject({ unreadCount: 0, lastReadSeq: 5 });
      expect(await roomsOf(ann)).toMatchObject({ unreadCount: 1 });
      // A send moves no read mark the room hears of.
      await annSocket.request({ type: 'ping' });
      expect(annSocket.frames.filter((f) => f.type === 'messages_read')).toHaveLength(1);

      const ws = await annSocket.request({ type: 'read', roomId, messageId: msgs[0].id });
      expect(ws.result).toEqual({ lastReadSeq: 4, unreadCount: 1 }); // Bo's message 5 is still unread for Ann
      expect((await api(httpUrl, 'POST', `/rooms/${roomId}/read`, { token: eve.token, body: { messageId: msgs[0].id } })).status).toBe(403);
      expect((await api(httpUrl, 'POST', `/rooms/${roomId}/read`, { token: bo.token, body: {} })).status).toBe(400);
    } finally {
      await annSocket.close();
    }
  });
});

describe('typing', () => {
  it('relays typing to the other members only, lists it, and lets it expire after 5 seconds', async () => {
    const roomId = await room(ann, [bo]);
    const [annSocket, boSocket, eveSocket] = await Promise.all([connect(wsUrl, ann), connect(wsUrl, bo), connect(wsUrl, eve)]);
    try {
      const ack = await annSocket.request({ type: 'typing', roomId, isTyping: true });
      expect(ack.type).toBe('ack');
      expect(await boSocket.next((f) => f.type === 'user_typing')).toMatchObject({ roomId, userId: ann.userId, displayName: 'Ann', isTyping: true });
      const typing = await api(httpUrl, 'GET', `/rooms/${roomId}/typing`, { token: bo.token });
      expect(typing.body.items.map((t: any) => t.userId)).toEqual([ann.userId]);
      await boSocket.request({ type: 'ping' });
      expect(annSocket.frames.filter((f) => f.type === 'user_typing')).toEqual([]);
      expect(eveSocket.frames.filter((f) => f.type === 'user_typing')).toEqual([]);
      const refused = await eveSocket.request({ type: 'typing', roomId, isTyping: true });
      expect(refused).toMatchObject({ type: 'error', code: 'forbidden' });
      expect((await api(httpUrl, 'GET', `/rooms/${roomId}/typing`, { token: eve.token })).status).toBe(403);
      await new Promise((r) => setTimeout(r, 5200));
      expect((await api(httpUrl, 'GET', `/rooms/${roomId}/typing`, { token: bo.token })).body.items).toEqual([]);
      await annSocket.request({ type: 'typing', roomId, isTyping: true });
      await annSocket.request({ type: 'typing', roomId, isTyping: false });
      expect((await api(httpUrl, 'GET', `/rooms/${roomId}/typing`, { token: bo.token })).body.items).toEqual([]);
      await boSocket.next((f) => f.type === 'user_typing' && f.isTyping === false);
    } finally {
      await Promise.all([annSocket.close(), boSocket.close(), eveSocket.close()]);
    }
  }, 30_000);
});

describe('mentions', () => {
  it('lists mentioned members only, and reaches a mentioned user on a connection scoped to another room', async () => {
    const [roomId, elsewhere] = await Promise.all([room(ann, [bo, cy]), room(ann, [bo])]);
    const boScoped: TestSocket = await connect(wsUrl, bo, { roomId: elsewhere });
    try {
      const m = await send(ann, roomId, { content: `hey <@${bo.userId}> and <@${eve.userId}>` });
      expect(m.body.mentions).toEqual([bo.userId]);
      const got = await boScoped.next((f) => f.type === 'message_new' && f.message.id === m.body.id);
      expect(got.message.mentions).toEqual([bo.userId]);
      const plain = await send(ann, roomId, { content: 'no mention' });
      await boScoped.request({ type: 'ping' });
      expect(boScoped.frames.some((f) => f.type === 'message_new' && f.message.id === plain.body.id)).toBe(false);
    } finally {
      await boScoped.close();
    }
  });
});
