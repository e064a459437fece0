import { beforeAll, describe, expect, inject, it } from 'vitest';
import { api, connect, createUser, eventually, type TestUser } from '#test/support/clients.ts';

const httpUrl = inject('httpUrl');
const wsUrl = inject('wsUrl');

let ann: TestUser, bo: TestUser, stranger: TestUser;
beforeAll(async () => {
  [ann, bo, stranger] = (await Promise.all(['ann', 'bo', 'stranger'].map((n) => createUser(httpUrl, n)))) as [TestUser, TestUser, TestUser];
  const res = await api(httpUrl, 'POST', '/rooms', { token: ann.token, body: { type: 'group', name: 'P', memberIds: [bo.userId] } });
  expect(res.status).toBe(201);
});

const presenceOf = async (viewer: TestUser, user: TestUser) => {
  const res = await api(httpUrl, 'GET', `/presence?userIds=${user.userId}`, { token: viewer.token });
  expect(res.status).toBe(200);
  return res.body.items[0];
};

describe('presence', () => {
  it('is online while a connection is open, away/busy when set, offline with lastSeenAt after the last one closes', async () => {
    expect(await presenceOf(ann, bo)).toMatchObject({ userId: bo.userId, status: 'offline' });
    const annSocket = await connect(wsUrl, ann);
    try {
      const first = await connect(wsUrl, bo);
      await annSocket.next((f) => f.type === 'presence_changed' && f.userId === bo.userId && f.status === 'online');
      expect(await presenceOf(ann, bo)).toMatchObject({ status: 'online' });
      const second = await connect(wsUrl, bo);

      const ack = await first.request({ type: 'presence_set', status: 'away' });
      expect(ack).toMatchObject({ type: 'ack', result: { status: 'away' } });
      await annSocket.next((f) => f.type === 'presence_changed' && f.userId === bo.userId && f.status === 'away');
      expect((await api(httpUrl, 'PUT', '/me/presence', { token: bo.token, body: { status: 'busy' } })).body.status).toBe('busy');
      await annSocket.next((f) => f.type === 'presence_changed' && f.userId === bo.userId && f.status === 'busy');

      // One of two connections closing changes nothing.
      await first.close();
      await new Promise((r) => setTimeout(r, 300));
      expect(await presenceOf(ann, bo)).toMatchObject({ status: 'busy' });
      await second.close();
      const offline = await annSocket.next((f) => f.type === 'presence_changed' && f.userId === bo.userId && f.status === 'offline');
      expect(offline.lastSeenAt).toEqual(expect.any(String));
      await eventually(async () => expect(await presenceOf(ann, bo)).toMatchObject({ status: 'offline', lastSeenAt: expect.any(String) }));
      const members = (await api(httpUrl, 'GET', `/rooms/${(await api(httpUrl, 'GET', '/rooms', { token: ann.token })).body.items[0].room.id}/members`, { token: ann.token })).body.items;
      expect(members.find((m: any) => m.userId === bo.userId).presence).toMatchObject({ status: 'offline', lastSeenAt: expect.any(String) });
      expect(members.find((m: any) => m.userId === ann.userId).presence.status).toBe('online');
      expect(annSocket.frames.filter((f) => f.type === 'presence_changed' && f.userId === bo.userId).map((f) => f.status)).toEqual(['online', 'away', 'busy', 'offline']);
    } finally {
      await annSocket.close();
    }
  });

  it('coalesces several tabs: one online when they open at once, offline only after the last one closes', async () => {
    const [cy, dee] = (await Promise.all(['cy', 'dee'].map((n) => createUser(httpUrl, n)))) as [TestUser, TestUser];
    expect((await api(httpUrl, 'POST', '/rooms', { token: cy.token, body: { type: 'group', name: 'Tabs', memberIds: [dee.userId] } })).status).toBe(201);
    const watcher = await connect(wsUrl, cy);
    try {
      const tabs = await Promise.all(Array.from({ length: 4 }, () => connect(wsUrl, dee)));
      await watcher.next((f) => f.type === 'presence_changed' && f.userId === dee.userId && f.status === 'online');
      for (const tab of tabs.slice(1)) await tab.close();
      // Time for any stray event to arrive: three tabs closing and four opening change nothing others see.
      await new Promise((r) => setTimeout(r, 500));
      expect(await presenceOf(cy, dee)).toMatchObject({ status: 'online' });
      await tabs[0]!.close();
      await watcher.next((f) => f.type === 'presence_changed' && f.userId === dee.userId && f.status === 'offline');
      await new Promise((r) => setTimeout(r, 300));
      expect(watcher.frames.filter((f) => f.type === 'presence_changed' && f.userId === dee.userId).map((f) => f.status)).toEqual(['online', 'offline']);
    } finally {
      await watcher.close();
    }
  });

  it('is shown only to users who share a room, and sent only to them', async () => {
    const res = await api(httpUrl, 'GET', `/presence?userIds=${bo.userId}`, { token: stranger.token });
    expect(res.status).toBe(403);
    const watcher = await connect(wsUrl, stranger);
    try {
      const annSocket = await connect(wsUrl, ann);
      const b = await connect(wsUrl, bo);
      await annSocket.next((f) => f.type === 'presence_changed' && f.userId === bo.userId && f.status === 'busy');
      await annSocket.close();
      await b.close();
      expect(watcher.frames.some((f) => f.type === 'presence_changed')).toBe(false);
    } finally {
      await watcher.close();
    }
    expect((await api(httpUrl, 'GET', '/presence', { token: ann.token })).status).toBe(400);
  });
});
