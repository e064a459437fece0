import { beforeAll, describe, expect, inject, it } from 'vitest';
import { api, connect, createUser, eventually, type TestUser } from '#test/support/clients.ts';

const httpUrl = inject('httpUrl');
const wsUrl = inject('wsUrl');

let ann: TestUser, bo: TestUser, cy: TestUser, dee: TestUser, eve: TestUser;
beforeAll(async () => {
  [ann, bo, cy, dee, eve] = (await Promise.all(['ann', 'bo', 'cy', 'dee', 'eve'].map((n) => createUser(httpUrl, n)))) as [TestUser, TestUser, TestUser, TestUser, TestUser];
});

async function group(owner: TestUser, members: TestUser[], extra: Record<string, unknown> = {}): Promise<string> {
  const res = await api(httpUrl, 'POST', '/rooms', { token: owner.token, body: { type: 'group', name: 'Room', memberIds: members.map((m) => m.userId), ...extra } });
  expect(res.status).toBe(201);
  return res.body.id;
}

const add = (actor: TestUser, roomId: string, body: Record<string, unknown>) => api(httpUrl, 'POST', `/rooms/${roomId}/members`, { token: actor.token, body });
const setRole = (actor: TestUser, roomId: string, userId: string, role: string) =>
  api(httpUrl, 'PATCH', `/rooms/${roomId}/members/${userId}`, { token: actor.token, body: { role } });
const remove = (actor: TestUser, roomId: string, userId: string) => api(httpUrl, 'DELETE', `/rooms/${roomId}/members/${userId}`, { token: actor.token });
const members = async (actor: TestUser, roomId: string) => (await api(httpUrl, 'GET', `/rooms/${roomId}/members`, { token: actor.token })).body.items as any[];
const systemMessages = async (actor: TestUser, roomId: string) =>
  ((await api(httpUrl, 'GET', `/rooms/${roomId}/messages?afterSeq=0&limit=100`, { token: actor.token })).body.items as any[]).filter((m) => m.type === 'system');

describe('roles', () => {
  it('makes the creator admin; only an admin changes roles (a member promoting themselves is refused)', async () => {
    // Bo connected once: the server knows the name he goes by.
    await (await connect(wsUrl, bo)).close();
    const roomId = await group(ann, [bo, cy]);
    const list = await members(ann, roomId);
    expect(list.find((m) => m.userId === ann.userId)).toMatchObject({ role: 'admin', presence: { status: expect.any(String) } });
    expect(list.find((m) => m.userId === bo.userId)).toMatchObject({ role: 'member' });

    const self = await setRole(bo, roomId, bo.userId, 'admin');
    expect(self.status).toBe(403);
    expect(self.body.error.code).toBe('forbidden');
    expect((await members(ann, roomId)).find((m) => m.userId === bo.userId).role).toBe('member');

    const promoted = await setRole(ann, roomId, bo.userId, 'moderator');
    expect(promoted.status).toBe(200);
    expect(promoted.body.role).toBe('moderator');
    // A moderator cannot hand out roles either.
    expect((await setRole(bo, roomId, cy.userId, 'moderator')).status).toBe(403);
    expect((await systemMessages(ann, roomId)).map((m) => m.content)).toContain('Ann made Bo a moderator');
  });

  it('lets a moderator add and remove members, but not remove an admin or add an admin', async () => {
    const roomId = await group(ann, [bo, cy]);
    await setRole(ann, roomId, bo.userId, 'moderator');
    const refusedRemoval = await remove(bo, roomId, ann.userId);
    expect(refusedRemoval.status).toBe(403);
    expect((await members(ann, roomId)).some((m) => m.userId === ann.userId)).toBe(true);
    expect((await add(bo, roomId, { userId: dee.userId, role: 'admin' })).status).toBe(403);

    expect((await add(bo, roomId, { userId: dee.userId })).status).toBe(201);
    expect((await remove(bo, roomId, cy.userId)).status).toBe(204);
    // A plain member can do neither.
    expect((await add(dee, roomId, { userId: eve.userId })).status).toBe(403);
    expect((await remove(dee, roomId, bo.userId)).status).toBe(403);
    // An admin removes anyone, a moderator included.
    expect((await remove(ann, roomId, bo.userId)).status).toBe(204);
    expect((await members(ann, roomId)).map((m) => m.userId).sort()).toEqual([ann.userId, dee.userId].sort());
  });

  it('lets moderators delete any message, members only their own', async () => {
    const roomId = await group(ann, [bo, cy]);
    await setRole(ann, roomId, bo.userId, 'moderator');
    const msg = (await api(httpUrl, 'POST', `/rooms/${roomId}/messages`, { token: ann.token, body: { content: 'hello' } })).body;
    expect((await api(httpUrl, 'DELETE', `/rooms/${roomId}/messages/${msg.id}`, { token: cy.token })).status).toBe(403);
    expect((await api(httpUrl, 'DELETE', `/rooms/${roomId}/messages/${msg.id}`, { token: bo.token })).status).toBe(200);
  });

  it('keeps the last admin until they hand the role over', async () => {
    const roomId = await group(ann, [bo]);
    const leave = await remove(ann, roomId, ann.userId);
    expect(leave.status).toBe(409);
    expect((await setRole(ann, roomId, ann.userId, 'member')).status).toBe(409);
    expect((await setRole(ann, roomId, bo.userId, 'admin')).status).toBe(200);
    expect((await remove(ann, roomId, ann.userId)).status).toBe(204);
    expect((await api(httpUrl, 'GET', `/rooms/${roomId}`, { token: ann.token })).status).toBe(403);
    expect((await members(bo, roomId)).map((m) => m.userId)).toEqual([bo.userId]);
    // Members leave freely.
    const other = await group(ann, [cy]);
    expect((await remove(cy, other, cy.userId)).status).toBe(204);
  });
});

describe('membership', () => {
  it('refuses a tenth-and-one member of a room of ten', async () => {
    const nine = await Promise.all(Array.from({ length: 9 }, (_, i) => createUser(httpUrl, `m${i}`)));
    const roomId = await group(ann, nine.slice(0, 8), { maxMembers: 10 });
    expect((await add(ann, roomId, { userId: nine[8]!.userId })).status).toBe(201);
    const full = await add(ann, roomId, { userId: eve.userId });
    expect(full.status).toBe(409);
    expect(full.body.error.message).toMatch(/full/);
    expect((await members(ann, roomId)).length).toBe(10);
    const room = (await api(httpUrl, 'GET', `/rooms/${roomId}`, { token: ann.token })).body;
    expect(room.memberCount).toBe(10);
    // Concurrent adds never overshoot.
    const roomOfThree = await group(ann, [bo], { maxMembers: 3 });
    const results = await Promise.all([cy, dee, eve].map((u) => add(ann, roomOfThree, { userId: u.userId })));
    expect(results.filter((r) => r.status === 201)).toHaveLength(1);
    expect((await members(ann, roomOfThree)).length).toBe(3);
  });

  it('lets anyone join a public room, nobody a private one', async () => {
    const pub = await group(ann, [], { visibility: 'public', name: 'Open' });
    const priv = await group(ann, [], { visibility: 'private' });
    const listed = await api(httpUrl, 'GET', '/rooms/public?limit=100', { token: eve.token });
    expect(listed.status).toBe(200);
    expect(listed.body.items.map((r: any) => r.id)).toContain(pub);
    expect(listed.body.items.map((r: any) => r.id)).not.toContain(priv);

    const refused = await api(httpUrl, 'POST', `/rooms/${priv}/join`, { token: eve.token });
    expect(refused.status).toBe(403);
    expect((await api(httpUrl, 'GET', `/rooms/${priv}/messages`, { token: eve.token })).status).toBe(403);

    const joined = await api(httpUrl, 'POST', `/rooms/${pub}/join`, { token: eve.token });
    expect(joined.status).toBe(200);
    expect((await members(eve, pub)).find((m) => m.userId === eve.userId)).toMatchObject({ role: 'member', displayName: 'Eve' });
    expect((await systemMessages(eve, pub)).map((m) => m.content)).toContain('Eve joined');
  });

  it('refuses adding to a direct room, and names it after the other member for each', async () => {
    await (await connect(wsUrl, bo)).close();
    const dm = await api(httpUrl, 'POST', '/rooms', { token: ann.token, body: { type: 'direct', memberIds: [bo.userId] } });
    // Get-or-create: the same pair again, from either side, is the same room (read under the function's own grant).
    for (const [u, other] of [[ann, bo], [bo, ann]] as const) {
      const again = await api(httpUrl, 'POST', '/rooms', { token: u.token, body: { type: 'direct', description: '', memberIds: [other.userId] } });
      expect(again.status).toBe(200);
      expect(again.body.id).toBe(dm.body.id);
    }
    const named = async (u: TestUser) => (await api(httpUrl, 'GET', '/rooms?limit=100', { token: u.token })).body.items.find((i: any) => i.room.id === dm.body.id).displayName;
    expect(await named(ann)).toBe('Bo');
    expect(await named(bo)).toBe('Ann');
    const res = await add(ann, dm.body.id, { userId: cy.userId });
    expect(res.status).toBe(403);
    expect((await members(ann, dm.body.id)).length).toBe(2);
    expect((await remove(ann, dm.body.id, bo.userId)).status).toBe(403);
  });

  it('tells the story in system messages and user_joined / user_left events', async () => {
    const roomId = await group(ann, [bo]);
    const socket = await connect(wsUrl, bo);
    try {
      expect((await add(ann, roomId, { userId: cy.userId, displayName: 'Cy' })).status).toBe(201);
      const joined = await socket.next((f) => f.type === 'user_joined' && f.roomId === roomId);
      expect(joined).toMatchObject({ userId: cy.userId, displayName: 'Cy', role: 'member' });
      expect((await remove(ann, roomId, cy.userId)).status).toBe(204);
      expect(await socket.next((f) => f.type === 'user_left' && f.roomId === roomId)).toMatchObject({ userId: cy.userId });
      const story = await systemMessages(ann, roomId);
      expect(story.map((m) => m.content)).toEqual(['Ann added Cy', 'Ann removed Cy']);
      expect(story[0]).toMatchObject({ senderId: 'system', metadata: { event: 'member_added', actorId: ann.userId, userId: cy.userId } });
      await socket.next((f) => f.type === 'message_new' && f.message.content === 'Ann removed Cy');
    } finally {
      await socket.close();
    }
  });

  it('cuts a removed member off at once: no more events on any connection, no read access', async () => {
    const roomId = await group(ann, [bo]);
    const everywhere = await connect(wsUrl, bo);
    const scoped = await connect(wsUrl, bo, { roomId });
    try {
      await api(httpUrl, 'POST', `/rooms/${roomId}/messages`, { token: ann.token, body: { content: 'before' } });
      await everywhere.next((f) => f.type === 'message_new' && f.message.content === 'before');
      await scoped.next((f) => f.type === 'message_new' && f.message.content === 'before');

      expect((await remove(ann, roomId, bo.userId)).status).toBe(204);
      await everywhere.next((f) => f.type === 'user_left' && f.userId === bo.userId);
      // The connection scoped to the room is closed.
      await eventually(() => expect(scoped.closeCode).toBeDefined(), 10_000);

      await api(httpUrl, 'POST', `/rooms/${roomId}/messages`, { token: ann.token, body: { content: 'after' } });
      // A message Ann sends after the removal is delivered to her; by then Bo's fan-out ran too.
      const annSocket = await connect(wsUrl, ann);
      await api(httpUrl, 'POST', `/rooms/${roomId}/messages`, { token: ann.token, body: { content: 'later' } });
      await annSocket.next((f) => f.type === 'message_new' && f.message.content === 'later');
      await annSocket.close();
      expect(everywhere.frames.some((f) => f.type === 'message_new' && f.message.roomId === roomId && f.message.content !== 'before')).toBe(false);
      expect((await api(httpUrl, 'GET', `/rooms/${roomId}/messages`, { token: bo.token })).status).toBe(403);
      expect((await api(httpUrl, 'POST', `/rooms/${roomId}/messages`, { token: bo.token, body: { content: 'let me in' } })).status).toBe(403);
      await expect(connect(wsUrl, bo, { roomId })).rejects.toMatchObject({ status: 403 });
    } finally {
      await everywhere.close();
      if (scoped.closeCode === undefined) await scoped.close();
    }
  });
});

describe('room settings', () => {
  it('lets an admin update and archive; others are refused; archived rooms stay readable', async () => {
    const roomId = await group(ann, [bo]);
    const socket = await connect(wsUrl, bo);
    try {
      expect((await api(httpUrl, 'PATCH', `/rooms/${roomId}`, { token: bo.token, body: { name: 'Mine' } })).status).toBe(403);
      const patched = await api(httpUrl, 'PATCH', `/rooms/${roomId}`, { token: ann.token, body: { name: 'Renamed', description: 'd' } });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ name: 'Renamed', description: 'd' });
      expect((await socket.next((f) => f.type === 'room_updated' && f.room.id === roomId)).room.name).toBe('Renamed');
      expect((await api(httpUrl, 'PATCH', `/rooms/${roomId}`, { token: ann.token, body: { maxMembers: 1 } })).status).toBe(400);

      await api(httpUrl, 'POST', `/rooms/${roomId}/messages`, { token: bo.token, body: { content: 'kept' } });
      expect((await api(httpUrl, 'DELETE', `/rooms/${roomId}`, { token: bo.token })).status).toBe(403);
      const archived = await api(httpUrl, 'DELETE', `/rooms/${roomId}`, { token: ann.token });
      expect(archived.status).toBe(200);
      expect(archived.body.archivedAt).toEqual(expect.any(String));
      await socket.next((f) => f.type === 'room_archived' && f.roomId === roomId);
      const refused = await api(httpUrl, 'POST', `/rooms/${roomId}/messages`, { token: bo.token, body: { content: 'too late' } });
      expect(refused.status).toBe(409);
      const history = await api(httpUrl, 'GET', `/rooms/${roomId}/messages`, { token: bo.token });
      expect(history.status).toBe(200);
      expect(history.body.items.map((m: any) => m.content)).toContain('kept');
      // Messages never wake room_updated.
      expect(socket.frames.filter((f) => f.type === 'room_updated')).toHaveLength(1);
    } finally {
      await socket.close();
    }
  });
});
