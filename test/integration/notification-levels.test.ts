import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { api, createUser, eventually, uniqueId, type TestUser } from '#test/support/clients.ts';
import { startRuntime, type Runtime } from '#test/support/runtime.ts';
import { serviceApi } from '#test/support/service.ts';
import { startEventsSink, type EventsSink } from '#test/support/events-sink.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#infra/local/services.ts';
import { TABLE } from '#shared/adapters/dynamodb/table.ts';
import { keys } from '#shared/adapters/dynamodb/entities/keys.ts';
import { LEVEL_COPY } from '#shared/adapters/dynamodb/entities/member.ts';
import { notifyKeys } from '#shared/adapters/dynamodb/entities/notification.ts';
import { migrateLevels } from '#shared/adapters/dynamodb/level-migration.ts';

/**
 * The copies of notification preferences on member items, which the events consumer decides
 * from (docs/notifications.md, "What it reads, and costs"): kept in step by both preference
 * routes, by joins and new rooms, also when they race; honoured over the preference items;
 * and member items written before copies (no copy on them) still notified as their preference
 * items say. A runtime of its own, whose events go to a server here.
 */
const WINDOW_MS = 1_000;
let runtime: Runtime, sink: EventsSink, db: DynamoDBDocumentClient;

beforeAll(async () => {
  sink = await startEventsSink();
  runtime = await startRuntime({ PARLEY_EVENTS_URL: sink.url, PARLEY_NOTIFY_COALESCE_SECONDS: String(WINDOW_MS / 1000), PARLEY_SEND_RATE_LIMIT: '0', PARLEY_WRITE_RATE_LIMIT: '0' });
  db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: runtime.dynamoEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }));
}, 90_000);
afterAll(async () => {
  db?.destroy();
  await runtime?.stop();
  await sink?.close();
});

const users = (...names: string[]) => Promise.all(names.map((n) => createUser(runtime.httpUrl, n)));
const call = (u: TestUser, method: string, path: string, body?: unknown) => api(runtime.httpUrl, method, path, { token: u.token, ...(body !== undefined && { body }) });
async function ok(u: TestUser, method: string, path: string, body?: unknown) {
  const res = await call(u, method, path, body);
  expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBeLessThan(300);
  return res.body;
}
const group = async (owner: TestUser, memberIds: string[], visibility = 'private') => (await ok(owner, 'POST', '/rooms', { type: 'group', name: 'Crew', visibility, memberIds })).id as string;
const item = async (key: { PK: string; SK: string }) => (await db.send(new GetCommand({ TableName: TABLE.defaultName, Key: key, ConsistentRead: true }))).Item;
const notified = (roomId: string, seq: number) =>
  sink.unique().filter((e) => e['detail-type'] === 'notification.requested' && e.detail.roomId === roomId && e.detail.seq === seq).map((e) => e.detail.userId as string).sort();
const react = (u: TestUser, roomId: string, messageId: string) => call(u, 'PUT', `/rooms/${roomId}/messages/${messageId}/reactions/${encodeURIComponent('👀')}`);

/** Sends `content` and resolves once its notifications are decided (a reaction after it is handled after them). */
async function decided(from: TestUser, roomId: string, content: string): Promise<number> {
  const m = await ok(from, 'POST', `/rooms/${roomId}/messages`, { content });
  expect((await react(from, roomId, m.id)).status).toBeLessThan(300);
  await eventually(() => expect(sink.received.some((e) => e['detail-type'] === 'reaction.added' && e.detail.messageId === m.id)).toBe(true), 15_000);
  return m.seq as number;
}

/** Every member item of the user in `roomIds` carries the level and version of their preference item. */
async function expectCopiesAgree(userId: string, roomIds: string[]): Promise<void> {
  const pref = await item(notifyKeys.pref(userId));
  for (const roomId of roomIds) {
    const m = await item(keys.member(roomId, userId));
    expect({ roomId, notify: m?.[LEVEL_COPY.userNotify], v: m?.[LEVEL_COPY.userVersion] }).toEqual({ roomId, notify: pref?.notify, v: pref?.prefV ?? 0 });
  }
}

/** A member item as functions deployed before copies wrote it: who, role, join time, and nothing of preferences. */
async function asBeforeCopies(roomId: string, userId: string): Promise<void> {
  const m = (await item(keys.member(roomId, userId)))!;
  const legacy = Object.fromEntries(Object.entries(m).filter(([name]) => !(Object.values(LEVEL_COPY) as string[]).includes(name)));
  expect(Object.keys(legacy).sort()).toEqual(['GSI1PK', 'GSI1SK', 'PK', 'SK', 'displayName', 'et', 'joinedAt', 'lastReadSeq', 'role', 'roomId', 'userId']);
  await db.send(new PutCommand({ TableName: TABLE.defaultName, Item: legacy }));
}

describe('copies of preferences on member items', () => {
  it('PUT /me/preferences reaches the member item of every room I am in; new rooms start with it; every message is decided from them', async () => {
    const [ann, di] = (await users('ann', 'di')) as [TestUser, TestUser];
    const before = [await group(ann, [di.userId]), await group(ann, [di.userId])];
    await expectCopiesAgree(di.userId, before);
    expect((await item(keys.member(before[0]!, di.userId)))?.[LEVEL_COPY.userVersion]).toBe(0);
    await ok(di, 'PUT', '/me/preferences', { notify: 'all' });
    await expectCopiesAgree(di.userId, before);
    // A room made after, one of 60 members (written in batches, then copied), and one joined.
    const made = await group(ann, [di.userId]);
    const big = await group(ann, [di.userId, ...Array.from({ length: 58 }, () => uniqueId('crowd'))]);
    const pub = await group(ann, [], 'public');
    await ok(di, 'POST', `/rooms/${pub}/join`);
    const rooms = [...before, made, big, pub];
    await expectCopiesAgree(di.userId, rooms);
    expect((await item(keys.member(big, di.userId)))?.[LEVEL_COPY.userNotify]).toBe('all');
    for (const roomId of rooms) expect(notified(roomId, await decided(ann, roomId, 'plain')), roomId).toEqual([di.userId]);

    await ok(di, 'PUT', '/me/preferences', { notify: 'none' });
    await expectCopiesAgree(di.userId, rooms);
    expect((await item(notifyKeys.pref(di.userId)))?.prefV).toBe(2);
    await new Promise((r) => setTimeout(r, WINDOW_MS + 100));
    for (const roomId of rooms) expect(notified(roomId, await decided(ann, roomId, `<@${di.userId}> muted all`)), roomId).toEqual([]);
  }, 60_000);

  it('PUT /rooms/{roomId}/preferences: the level and mute on my member item decide, over what the preference item says', async () => {
    const [ann, cy, di] = (await users('ann', 'cy', 'di')) as [TestUser, TestUser, TestUser];
    const roomId = await group(ann, [cy.userId, di.userId]);
    await ok(di, 'PUT', '/me/preferences', { notify: 'all' });
    await ok(cy, 'PUT', `/rooms/${roomId}/preferences`, { notify: 'all' });
    const until = new Date(Date.now() + 3_600_000).toISOString();
    await ok(di, 'PUT', `/rooms/${roomId}/preferences`, { mutedUntil: until });
    expect(await item(keys.member(roomId, cy.userId))).toMatchObject({ [LEVEL_COPY.roomNotify]: 'all', [LEVEL_COPY.roomVersion]: 1 });
    expect(await item(keys.member(roomId, di.userId))).toMatchObject({ [LEVEL_COPY.roomMutedUntil]: until, [LEVEL_COPY.roomVersion]: 1, [LEVEL_COPY.userNotify]: 'all' });
    // The preference items say otherwise (written behind the routes' back): the copies decide.
    await db.send(new UpdateCommand({ TableName: TABLE.defaultName, Key: notifyKeys.room(cy.userId, roomId), UpdateExpression: 'SET notify = :n', ExpressionAttributeValues: { ':n': 'none' } }));
    await db.send(new UpdateCommand({ TableName: TABLE.defaultName, Key: notifyKeys.room(di.userId, roomId), UpdateExpression: 'REMOVE mutedUntil' }));
    expect(notified(roomId, await decided(ann, roomId, 'plain'))).toEqual([cy.userId]);

    // Unmuting reaches the member item too.
    expect((await ok(di, 'PUT', `/rooms/${roomId}/preferences`, { mutedUntil: null })).effective).toBe('all');
    expect((await item(keys.member(roomId, di.userId)))?.[LEVEL_COPY.roomMutedUntil]).toBeUndefined();
    // Past cy's window (a slow machine may or may not still be inside it): cy as before, and di now.
    await new Promise((r) => setTimeout(r, WINDOW_MS + 100));
    expect(notified(roomId, await decided(ann, roomId, 'plain again'))).toEqual([cy.userId, di.userId].sort());
    // Nothing is written for someone not in the room: 403 as before, no member item made.
    const [stranger] = (await users('stranger')) as [TestUser];
    expect((await call(stranger, 'PUT', `/rooms/${roomId}/preferences`, { notify: 'all' })).status).toBe(403);
    expect(await item(keys.member(roomId, stranger.userId))).toBeUndefined();
  }, 60_000);

  it('the service API\'s rooms and added members carry the copies too', async () => {
    const [ann, di] = (await users('ann', 'di')) as [TestUser, TestUser];
    await ok(di, 'PUT', '/me/preferences', { notify: 'all' });
    const service = (method: string, path: string, body?: unknown) => serviceApi(runtime.httpUrl, runtime.service, method, path, body);
    const created = await service('POST', '/service/rooms', { context: { kind: 'job', id: uniqueId('job') }, members: [{ userId: ann.userId }, { userId: di.userId }] });
    expect(created.status).toBe(201);
    const other = (await service('POST', '/service/rooms', { context: { kind: 'job', id: uniqueId('job') }, members: [{ userId: ann.userId }] })).body.id as string;
    expect((await service('POST', `/service/rooms/${other}/members`, { userId: di.userId })).status).toBe(201);
    await expectCopiesAgree(di.userId, [created.body.id, other]);
    expect((await item(keys.member(other, di.userId)))?.[LEVEL_COPY.userNotify]).toBe('all');
  }, 30_000);

  it('a room preference outlives leaving: joining again copies it back onto the new member item', async () => {
    const [ann, di] = (await users('ann', 'di')) as [TestUser, TestUser];
    const roomId = await group(ann, [di.userId], 'public');
    await ok(di, 'PUT', `/rooms/${roomId}/preferences`, { notify: 'none' });
    await ok(di, 'DELETE', `/rooms/${roomId}/members/${di.userId}`);
    await ok(di, 'POST', `/rooms/${roomId}/join`);
    expect(await item(keys.member(roomId, di.userId))).toMatchObject({ [LEVEL_COPY.roomNotify]: 'none', [LEVEL_COPY.roomVersion]: 1 });
    expect(notified(roomId, await decided(ann, roomId, `<@${di.userId}> still muted`))).toEqual([]);
  }, 30_000);

  it('member items written before copies: notified as their preference items say, and copied from the next change on', async () => {
    const [ann, cy, di, ed, fay] = (await users('ann', 'cy', 'di', 'ed', 'fay')) as [TestUser, TestUser, TestUser, TestUser, TestUser];
    const roomId = await group(ann, [cy.userId, di.userId, ed.userId]);
    const direct = (await ok(ann, 'POST', '/rooms', { type: 'direct', memberIds: [fay.userId] })).id as string;
    await ok(cy, 'PUT', '/me/preferences', { notify: 'all' });
    await ok(di, 'PUT', '/me/preferences', { notify: 'all' });
    await ok(di, 'PUT', `/rooms/${roomId}/preferences`, { notify: 'none' });
    for (const u of [cy, di, ed]) await asBeforeCopies(roomId, u.userId);
    await asBeforeCopies(direct, fay.userId);
    expect(notified(roomId, await decided(ann, roomId, 'plain'))).toEqual([cy.userId]);
    await new Promise((r) => setTimeout(r, WINDOW_MS + 100));
    expect(notified(roomId, await decided(ann, roomId, `<@${ed.userId}> <@${di.userId}> hello`))).toEqual([cy.userId, ed.userId].sort());
    expect(notified(direct, await decided(ann, direct, 'just us'))).toEqual([fay.userId]);

    // A change copies onto the item that had none; the part still missing is read as before.
    await ok(cy, 'PUT', '/me/preferences', { notify: 'none' });
    expect(await item(keys.member(roomId, cy.userId))).toMatchObject({ [LEVEL_COPY.userNotify]: 'none', [LEVEL_COPY.userVersion]: 2 });
    expect((await item(keys.member(roomId, cy.userId)))?.[LEVEL_COPY.roomVersion]).toBeUndefined();
    await new Promise((r) => setTimeout(r, WINDOW_MS + 100));
    expect(notified(roomId, await decided(ann, roomId, 'plain, later'))).toEqual([]);
  }, 60_000);

  it('joins and adds racing changes of level: every member item ends with the last level', async () => {
    // Each round, di joins (or is added to) rooms while changing their level once, the change
    // started a little later each round so that it lands at every point of the joins: before a
    // join reads the level, between that read and the join's write, after it.
    const [ann, di] = (await users('ann', 'di')) as [TestUser, TestUser];
    const levels = ['all', 'none', 'mentions'] as const;
    const all: string[] = [];
    for (let round = 0; round < 14; round++) {
      const rooms = await Promise.all(Array.from({ length: 6 }, (_, i) => group(ann, [], i % 2 === 0 ? 'public' : 'private')));
      const change = (async () => {
        await new Promise((r) => setTimeout(r, round * 4));
        await ok(di, 'PUT', '/me/preferences', { notify: levels[round % 3] });
      })();
      await Promise.all([
        change,
        ...rooms.map((roomId, i) => (i % 2 === 0 ? ok(di, 'POST', `/rooms/${roomId}/join`) : ok(ann, 'POST', `/rooms/${roomId}/members`, { userId: di.userId }))),
      ]);
      all.push(...rooms);
      await expectCopiesAgree(di.userId, all);
    }
    expect((await item(notifyKeys.pref(di.userId)))?.prefV).toBe(14);
  }, 120_000);
});

describe('npm run migrate:levels', () => {
  it('copies onto member items written before copies, as they stand; skips those without a seat; a second run changes nothing', async () => {
    const [ann, cy, di, ed] = (await users('ann', 'cy', 'di', 'ed')) as [TestUser, TestUser, TestUser, TestUser];
    const roomId = await group(ann, [cy.userId, di.userId, ed.userId]);
    await ok(cy, 'PUT', '/me/preferences', { notify: 'all' });
    const until = new Date(Date.now() + 3_600_000).toISOString();
    await ok(di, 'PUT', `/rooms/${roomId}/preferences`, { notify: 'none', mutedUntil: until });
    for (const u of [ann, cy, di, ed]) await asBeforeCopies(roomId, u.userId);
    await db.send(new DeleteCommand({ TableName: TABLE.defaultName, Key: keys.seat(ed.userId, roomId) }));

    const first = await migrateLevels(db, TABLE.defaultName);
    expect(first.copied).toBeGreaterThanOrEqual(3);
    expect(first.withoutSeat).toBeGreaterThanOrEqual(1);
    expect(await item(keys.member(roomId, cy.userId))).toMatchObject({ [LEVEL_COPY.userNotify]: 'all', [LEVEL_COPY.userVersion]: 1, [LEVEL_COPY.roomVersion]: 0 });
    expect(await item(keys.member(roomId, di.userId))).toMatchObject({ [LEVEL_COPY.roomNotify]: 'none', [LEVEL_COPY.roomMutedUntil]: until, [LEVEL_COPY.roomVersion]: 1, [LEVEL_COPY.userVersion]: 0 });
    expect(await item(keys.member(roomId, ann.userId))).toMatchObject({ [LEVEL_COPY.userVersion]: 0, [LEVEL_COPY.roomVersion]: 0 });
    expect((await item(keys.member(roomId, ed.userId)))?.[LEVEL_COPY.userVersion]).toBeUndefined();
    const after = await Promise.all([ann, cy, di].map((u) => item(keys.member(roomId, u.userId))));
    await migrateLevels(db, TABLE.defaultName);
    expect(await Promise.all([ann, cy, di].map((u) => item(keys.member(roomId, u.userId))))).toEqual(after);
    // Decided from the copies as before: cy (all) only.
    expect(notified(roomId, await decided(ann, roomId, `plain <@${di.userId}>`))).toEqual([cy.userId]);
  }, 60_000);
});

describe('the consumer\'s reads', () => {
  it('reads the member items and nothing of the preference items when every item has its copies', async () => {
    // What the consumer reads is measured by the bench (bench/lib/notifications.ts); here, that
    // the member Query returns every member with both copies.
    const [ann, bo, cy] = (await users('ann', 'bo', 'cy')) as [TestUser, TestUser, TestUser];
    const roomId = await group(ann, [bo.userId, cy.userId]);
    const out = await db.send(
      new QueryCommand({ TableName: TABLE.defaultName, KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)', ExpressionAttributeValues: { ':pk': `ROOM#${roomId}`, ':sk': 'MEMBER#' } }),
    );
    expect(out.Items).toHaveLength(3);
    for (const m of out.Items ?? []) expect(m).toMatchObject({ [LEVEL_COPY.userVersion]: 0, [LEVEL_COPY.roomVersion]: 0 });
  });
});
