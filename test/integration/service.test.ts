import { beforeAll, describe, expect, inject, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { api, connect, createUser, type TestUser } from '#test/support/clients.ts';
import { serviceApi } from '#test/support/service.ts';

const httpUrl = inject('httpUrl');
const wsUrl = inject('wsUrl');
const credential = inject('service');

let ann: TestUser, bo: TestUser, cy: TestUser;
beforeAll(async () => {
  [ann, bo, cy] = (await Promise.all(['ann', 'bo', 'cy'].map((n) => createUser(httpUrl, n)))) as [TestUser, TestUser, TestUser];
});

const call = (method: string, path: string, body?: unknown) => serviceApi(httpUrl, credential, method, path, body);

describe('service API authorization', () => {
  it('refuses an end-user token, no signature, a wrong secret and a tampered body', async () => {
    const body = { context: { kind: 'job', id: randomUUID() }, members: [{ userId: ann.userId }] };
    const withJwt = await api(httpUrl, 'POST', '/service/rooms', { token: ann.token, body });
    expect(withJwt.status).toBe(403);
    expect((await api(httpUrl, 'POST', '/service/rooms', { body })).status).toBe(403);
    const wrong = await serviceApi(httpUrl, { ...credential, secretAccessKey: 'not-the-secret' }, 'POST', '/service/rooms', body);
    expect(wrong.status).toBe(403);
    const otherKey = await serviceApi(httpUrl, { ...credential, accessKeyId: 'AKIAOTHER' }, 'POST', '/service/rooms', body);
    expect(otherKey.status).toBe(403);
    // Nothing was created by the refused calls.
    const created = await call('POST', '/service/rooms', body);
    expect(created.status).toBe(201);
  });
});

describe('service API', () => {
  it('creates a room for a context once, however often it is retried (even at once)', async () => {
    const context = { kind: 'connection', id: randomUUID() };
    const body = { name: 'Ann & Bo', context, members: [{ userId: ann.userId, displayName: 'Ann' }, { userId: bo.userId, displayName: 'Bo' }] };
    const results = await Promise.all([call('POST', '/service/rooms', body), call('POST', '/service/rooms', body), call('POST', '/service/rooms', body)]);
    expect(results.map((r) => r.status).sort()).toEqual([200, 200, 201]);
    expect(new Set(results.map((r) => r.body.id)).size).toBe(1);
    const room = results[0]!.body;
    expect(room).toMatchObject({ type: 'group', context, memberCount: 2, createdBy: 'system' });
    const mine = await api(httpUrl, 'GET', '/rooms', { token: bo.token });
    expect(mine.body.items.map((i: any) => i.room.id)).toContain(room.id);
  });

  it('creates rooms of a hundred members and more (written in batches), by the service and by a user', async () => {
    const ids = Array.from({ length: 149 }, (_, i) => `crowd-${randomUUID().slice(0, 8)}-${i}`);
    const byService = await call('POST', '/service/rooms', { context: { kind: 'cohort', id: randomUUID() }, maxMembers: 200, members: [ann.userId, ...ids].map((userId) => ({ userId })) });
    expect(byService.status).toBe(201);
    expect(byService.body.memberCount).toBe(150);
    const byUser = await api(httpUrl, 'POST', '/rooms', { token: ann.token, body: { type: 'group', name: 'Crowd', maxMembers: 200, memberIds: ids } });
    expect(byUser.status).toBe(201);
    expect(byUser.body.memberCount).toBe(150);
    for (const room of [byService.body, byUser.body]) {
      const members = await api(httpUrl, 'GET', `/rooms/${room.id}/members`, { token: ann.token });
      expect(members.status).toBe(200);
      expect(members.body.items).toHaveLength(150);
    }
  });

  it('creates a public room that anyone finds among public rooms and can join', async () => {
    const created = await call('POST', '/service/rooms', { name: 'Open course', visibility: 'public', context: { kind: 'course', id: randomUUID() }, members: [] });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ visibility: 'public', memberCount: 0 });
    const listed = async () => {
      const ids: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await api(httpUrl, 'GET', `/rooms/public?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token: cy.token });
        expect(page.status).toBe(200);
        ids.push(...page.body.items.map((r: any) => r.id));
        cursor = page.body.nextCursor;
      } while (cursor);
      return ids;
    };
    expect(await listed()).toContain(created.body.id);
    expect((await api(httpUrl, 'POST', `/rooms/${created.body.id}/join`, { token: cy.token })).status).toBe(200);
  });

  it('removes an admin while another admin stays, and refuses to remove the last one while members remain', async () => {
    // Members given without a display name are named in the system message from their presence;
    // an admin leaves only while another admin stays (both read what the role was granted for).
    const room = (
      await call('POST', '/service/rooms', { context: { kind: 'team', id: randomUUID() }, members: [{ userId: ann.userId, role: 'admin' }, { userId: bo.userId, role: 'admin' }, { userId: cy.userId }] })
    ).body;
    expect((await call('DELETE', `/service/rooms/${room.id}/members/${bo.userId}`)).status).toBe(204);
    const last = await call('DELETE', `/service/rooms/${room.id}/members/${ann.userId}`);
    expect(last.status).toBe(409);
    expect(last.body.error.code).toBe('conflict');
    const history = await api(httpUrl, 'GET', `/rooms/${room.id}/messages`, { token: ann.token });
    expect(history.body.items.some((m: any) => m.type === 'system' && m.content.includes('removed'))).toBe(true);
  });

  it('adds and removes members, posts custom-typed messages with metadata, archives', async () => {
    const room = (await call('POST', '/service/rooms', { context: { kind: 'project', id: randomUUID() }, members: [{ userId: ann.userId }] })).body;
    const socket = await connect(wsUrl, ann);
    try {
      const added = await call('POST', `/service/rooms/${room.id}/members`, { userId: bo.userId, displayName: 'Bo' });
      expect(added.status).toBe(201);
      expect((await call('POST', `/service/rooms/${room.id}/members`, { userId: bo.userId })).status).toBe(409);

      const payment = await call('POST', `/service/rooms/${room.id}/messages`, { type: 'payment', content: 'Ann paid 40 EUR', metadata: { amount: 40, currency: 'EUR' } });
      expect(payment.status).toBe(201);
      expect(payment.body).toMatchObject({ type: 'payment', senderId: 'system', metadata: { amount: 40, currency: 'EUR' } });
      const heard = await socket.next((f) => f.type === 'message_new' && f.message.type === 'payment');
      expect(heard.message.metadata).toEqual({ amount: 40, currency: 'EUR' });
      expect((await call('POST', `/service/rooms/${room.id}/messages`, { type: 'text', content: 'x' })).status).toBe(400);
      // Users cannot post service types.
      expect((await api(httpUrl, 'POST', `/rooms/${room.id}/messages`, { token: ann.token, body: { content: 'x', messageType: 'payment' } })).status).toBe(400);

      expect((await call('DELETE', `/service/rooms/${room.id}/members/${bo.userId}`)).status).toBe(204);
      expect((await api(httpUrl, 'GET', `/rooms/${room.id}`, { token: bo.token })).status).toBe(403);
      expect((await call('DELETE', `/service/rooms/${room.id}/members/${cy.userId}`)).status).toBe(404);

      const archived = await call('DELETE', `/service/rooms/${room.id}`);
      expect(archived.status).toBe(200);
      expect(archived.body.archivedAt).toEqual(expect.any(String));
      expect((await call('POST', `/service/rooms/${room.id}/messages`, { type: 'system', content: 'late' })).status).toBe(409);
      const history = await api(httpUrl, 'GET', `/rooms/${room.id}/messages?afterSeq=0`, { token: ann.token });
      expect(history.body.items.map((m: any) => [m.type, m.content])).toEqual([
        ['system', 'System added Bo'],
        ['payment', 'Ann paid 40 EUR'],
        ['system', 'System removed Bo'],
        ['system', 'System archived the room'],
      ]);
    } finally {
      await socket.close();
    }
  });

  it('refuses what the room rules refuse: unknown rooms, over maxMembers at creation', async () => {
    expect((await call('POST', '/service/rooms/nope/members', { userId: bo.userId })).status).toBe(404);
    const tooMany = await call('POST', '/service/rooms', {
      context: { kind: 'match', id: randomUUID() },
      maxMembers: 2,
      members: [{ userId: ann.userId }, { userId: bo.userId }, { userId: cy.userId }],
    });
    expect(tooMany.status).toBe(400);
    expect((await call('POST', '/service/rooms', { members: [] })).status).toBe(400);
  });
});
