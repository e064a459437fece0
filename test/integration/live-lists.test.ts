import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { BatchWriteItemCommand, CreateTableCommand, DeleteItemCommand, DynamoDBClient, GetItemCommand, PutItemCommand, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { startRuntime, type Runtime } from '#test/support/runtime.ts';
import { api, connect, createGroupRoom, createUser, createUsers, eventually, type TestSocket, type TestUser } from '#test/support/clients.ts';
import { keys } from '#shared/adapters/dynamodb/entities/keys.ts';
import { live } from '#shared/adapters/dynamodb/entities/live.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#infra/local/services.ts';
import { createTableInput } from '#infra/local/provision.ts';
import { LIVE_LISTS_GRACE_MS } from '#shared/domain/live.ts';
import { FIRST_LIVE_PAGE } from '#shared/adapters/dynamodb/connection-store.ts';
import { PRESENCE_FANOUT } from '#shared/domain/presence.ts';

/**
 * Rooms' live lists (shared/domain/live.ts): the stream fan-out lists each open connection in the
 * rooms of its user and finds a room's recipients in one Query of its list. Checked against the
 * table itself (the entries) and against what real WebSocket clients receive.
 */
const dynamoEndpoint = inject('dynamoEndpoint');
const db = new DynamoDBClient({ endpoint: dynamoEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
const env = (tableName: string) => ({ AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint, PARLEY_TABLE_NAME: tableName, PARLEY_SEND_RATE_LIMIT: '0', PARLEY_WRITE_RATE_LIMIT: '0' });

let rt: Runtime;
const tableName = `live-${randomUUID().slice(0, 8)}`;
beforeAll(async () => {
  rt = await startRuntime(env(tableName));
}, 120_000);
afterAll(async () => {
  await rt?.stop();
  db.destroy();
});

const users = (prefix: string, n: number) => createUsers(rt.httpUrl, prefix, n);
const groupRoom = (owner: TestUser, others: TestUser[], httpUrl = rt.httpUrl) => createGroupRoom(httpUrl, owner, others, { visibility: 'public' });
/** The room's live list as stored: connection id → entry. */
async function listed(roomId: string, table = tableName): Promise<Map<string, Record<string, unknown>>> {
  const { PK, SKPrefix } = keys.livePrefix(roomId);
  const out = await db.send(
    new QueryCommand({ TableName: table, KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)', ExpressionAttributeValues: marshall({ ':pk': PK, ':sk': SKPrefix }), ConsistentRead: true }),
  );
  return new Map((out.Items ?? []).map((i) => unmarshall(i)).map((i) => [String(i.connectionId), i]));
}
const idOf = async (s: TestSocket) => String((await s.next((f) => f.type === 'connection_established')).connectionId);
const said = (s: TestSocket, roomId: string) => s.frames.filter((f) => f.type === 'message_new' && f.message.roomId === roomId && f.message.type !== 'system').map((f) => String(f.message.content));

describe('live lists', () => {
  it('list a connection in every room of its user before it is greeted, scope and expiry kept, and take it off when it closes', async () => {
    const [a, b] = await users('l', 2);
    const [room1, room2] = [await groupRoom(a!, [b!]), await groupRoom(a!, [])];
    const before = Date.now();
    const plain = await connect(rt.wsUrl, a!);
    const scoped = await connect(rt.wsUrl, a!, { roomId: room1 });
    const [plainId, scopedId] = [await idOf(plain), await idOf(scoped)];
    // Greeted only once listed: no waiting here.
    for (const roomId of [room1, room2]) {
      const entries = await listed(roomId);
      expect(entries.get(plainId)).toMatchObject({ userId: a!.userId, et: 'live' });
      expect(entries.get(plainId)?.scopeRoomId).toBeUndefined();
      expect(entries.get(scopedId)).toMatchObject({ userId: a!.userId, scopeRoomId: room1 });
      // It expires with its connection (2 h 10 min after it opened), should its removal be lost.
      const ttl = Number(entries.get(plainId)?.ttl) * 1000;
      expect(ttl).toBeGreaterThanOrEqual(before + LIVE_LISTS_GRACE_MS - 2000);
      expect(ttl).toBeLessThanOrEqual(Date.now() + LIVE_LISTS_GRACE_MS);
    }
    // B is in room 1 only; not connected, so listed nowhere.
    expect([...(await listed(room1)).values()].map((e) => e.userId)).toEqual([a!.userId, a!.userId]);
    await plain.close();
    await eventually(async () => {
      for (const roomId of [room1, room2]) expect([...(await listed(roomId)).keys()]).toEqual([scopedId]);
    }, 10_000);
    await scoped.close();
    await eventually(async () => expect((await listed(room1)).size + (await listed(room2)).size).toBe(0), 10_000);
  });

  it('list a member who joins before the room\'s next message reaches them, and take off one who leaves or is removed', async () => {
    const [owner, joiner, removed] = await users('j', 3);
    const roomId = await groupRoom(owner!, [removed!]);
    const [s0, s1, s2] = await Promise.all([owner, joiner, removed].map((u) => connect(rt.wsUrl, u)));
    const joinerId = await idOf(s1!);
    expect((await listed(roomId)).has(joinerId)).toBe(false);
    expect((await api(rt.httpUrl, 'POST', `/rooms/${roomId}/join`, { token: joiner!.token })).status).toBeLessThan(300);
    // The join's record comes before the message's in the room's order: listed by then.
    await s0!.request({ type: 'message_send', roomId, content: 'right after the join' });
    await eventually(() => expect(said(s1!, roomId)).toEqual(['right after the join']));
    expect((await listed(roomId)).get(joinerId)).toMatchObject({ userId: joiner!.userId });

    expect((await api(rt.httpUrl, 'DELETE', `/rooms/${roomId}/members/${removed!.userId}`, { token: owner!.token })).status).toBeLessThan(300);
    expect((await api(rt.httpUrl, 'DELETE', `/rooms/${roomId}/members/${joiner!.userId}`, { token: joiner!.token })).status).toBeLessThan(300);
    await eventually(async () => expect([...(await listed(roomId)).values()].map((e) => e.userId)).toEqual([owner!.userId]), 10_000);
    await s0!.request({ type: 'message_send', roomId, content: 'after they went' });
    await eventually(() => expect(said(s0!, roomId)).toContain('after they went'));
    await new Promise((r) => setTimeout(r, 300));
    // Both had the message sent while they were members, and nothing since.
    expect(said(s1!, roomId)).toEqual(['right after the join']);
    expect(said(s2!, roomId)).toEqual(['right after the join']);
    await Promise.all([s0, s1, s2].map((s) => s!.close()));
  });

  it('list every connection that opens while its user joins, whichever is handled first', async () => {
    const [owner, ...joiners] = await users('r', 7);
    const roomId = await groupRoom(owner!, []);
    const s0 = await connect(rt.wsUrl, owner!);
    // Each joiner connects and joins at the same moment.
    const sockets = await Promise.all(
      joiners.map(async (u) => {
        const [socket, joined] = await Promise.all([connect(rt.wsUrl, u), api(rt.httpUrl, 'POST', `/rooms/${roomId}/join`, { token: u.token })]);
        expect(joined.status).toBeLessThan(300);
        return socket;
      }),
    );
    const ids = await Promise.all(sockets.map(idOf));
    await eventually(async () => expect([...(await listed(roomId)).keys()]).toEqual(expect.arrayContaining(ids)), 10_000);
    await s0.request({ type: 'message_send', roomId, content: 'to everyone' });
    await eventually(() => sockets.forEach((s) => expect(said(s, roomId)).toEqual(['to everyone'])), 10_000);
    await Promise.all([s0, ...sockets].map((s) => s.close()));
  });

  it('are what a fan-out reads: a member\'s connection missing from the list is not posted to, and an outsider\'s entry reaches no one', async () => {
    const [owner, member, outsider] = await users('f', 3);
    const roomId = await groupRoom(owner!, [member!]);
    const [s0, s1, s2] = await Promise.all([owner, member, outsider].map((u) => connect(rt.wsUrl, u)));
    const [memberId, outsiderId] = [await idOf(s1!), await idOf(s2!)];
    await db.send(new DeleteItemCommand({ TableName: tableName, Key: marshall(keys.live(roomId, memberId)) }));
    // As a connect racing a removal could leave it: an entry of someone who is not a member.
    await db.send(new PutItemCommand({ TableName: tableName, Item: marshall(live.toItem(roomId, { connectionId: outsiderId, userId: outsider!.userId }, Math.floor(Date.now() / 1000) + 600)) }));
    await s0!.request({ type: 'message_send', roomId, content: 'listed only' });
    await eventually(() => expect(said(s0!, roomId)).toEqual(['listed only']));
    await new Promise((r) => setTimeout(r, 500));
    expect(said(s1!, roomId)).toEqual([]);
    expect(said(s2!, roomId)).toEqual([]);
    await Promise.all([s0, s1, s2].map((s) => s!.close()));
  });

  it('lose the entry of a connection API Gateway no longer knows, at its first post', async () => {
    const [owner, member] = await users('g', 2);
    const roomId = await groupRoom(owner!, [member!]);
    const s0 = await connect(rt.wsUrl, owner!);
    const gone = `gone${randomUUID().slice(0, 8)}=`;
    await db.send(new PutItemCommand({ TableName: tableName, Item: marshall(live.toItem(roomId, { connectionId: gone, userId: member!.userId }, Math.floor(Date.now() / 1000) + 600)) }));
    await s0.request({ type: 'message_send', roomId, content: 'to a closed connection' });
    await eventually(async () => expect((await listed(roomId)).has(gone)).toBe(false), 10_000);
    await s0.close();
  });
});

describe('presence changes read from the live lists', () => {
  it("reach the listed members of the user's rooms of at most maxRoomSize members, past a list's first page, and no outsider's entry", async () => {
    const [subject, member, bigMember, outsider] = await users('p', 4);
    const small = await groupRoom(subject!, [member!]);
    const big = await groupRoom(subject!, [bigMember!]);
    // A room above the bound, as far as the fan-out can tell: its count says so.
    await db.send(
      new UpdateItemCommand({ TableName: tableName, Key: marshall(keys.room(big)), UpdateExpression: 'SET memberCount = :n', ExpressionAttributeValues: marshall({ ':n': PRESENCE_FANOUT.maxRoomSize + 1 }) }),
    );
    const [sm, sb, so] = await Promise.all([member, bigMember, outsider].map((u) => connect(rt.wsUrl, u!)));
    const outsiderId = await idOf(so!);
    await Promise.all([idOf(sm!), idOf(sb!)]);
    const expires = Math.floor(Date.now() / 1000) + 600;
    // An outsider's entry, and a first page full of entries of non-members, sorting before every real connection id.
    await db.send(new PutItemCommand({ TableName: tableName, Item: marshall(live.toItem(small, { connectionId: outsiderId, userId: outsider!.userId }, expires)) }));
    const fillers = Array.from({ length: FIRST_LIVE_PAGE + 2 }, (_, i) => live.toItem(small, { connectionId: `!filler${String(i).padStart(4, '0')}`, userId: `nobody-${i}` }, expires));
    for (let i = 0; i < fillers.length; i += 25) {
      await db.send(new BatchWriteItemCommand({ RequestItems: { [tableName]: fillers.slice(i, i + 25).map((item) => ({ PutRequest: { Item: marshall(item) } })) } }));
    }
    const told = (s: TestSocket) => s.frames.filter((f) => f.type === 'presence_changed' && f.userId === subject!.userId).map((f) => f.status);
    const s0 = await connect(rt.wsUrl, subject!);
    await sm!.next((f) => f.type === 'presence_changed' && f.userId === subject!.userId && f.status === 'online');
    await s0.close();
    await sm!.next((f) => f.type === 'presence_changed' && f.userId === subject!.userId && f.status === 'offline');
    await new Promise((r) => setTimeout(r, 500));
    expect(told(sm!)).toEqual(['online', 'offline']);
    expect(told(sb!)).toEqual([]);
    expect(told(so!)).toEqual([]);
    await Promise.all([sm, sb, so].map((s) => s!.close()));
  });
});

describe('live lists of a table that had connections before them', () => {
  let old: Runtime;
  const oldTable = `live-old-${randomUUID().slice(0, 8)}`;
  beforeAll(async () => {
    // Made before the runtime starts, as a table deployed before the lists were: no marker.
    await db.send(new CreateTableCommand(createTableInput(oldTable)));
    old = await startRuntime(env(oldTable));
  }, 120_000);
  afterAll(async () => {
    await old?.stop();
  });

  it('are marked from the first connection listed, and until every older connection has closed a fan-out reads presence: an unlisted connection is still reached', async () => {
    const [owner, member] = await Promise.all([createUser(old.httpUrl, 'o'), createUser(old.httpUrl, 'm')]);
    const roomId = await groupRoom(owner, [member], old.httpUrl);
    const before = new Date().toISOString();
    const [s0, s1] = await Promise.all([connect(old.wsUrl, owner), connect(old.wsUrl, member)]);
    const { Item } = await db.send(new GetItemCommand({ TableName: oldTable, Key: marshall(keys.marker('live-lists')), ConsistentRead: true }));
    expect(String(unmarshall(Item!).since) >= before).toBe(true);
    // As a connection opened before the lists were kept: on the member's presence, in no list.
    await db.send(new DeleteItemCommand({ TableName: oldTable, Key: marshall(keys.live(roomId, await idOf(s1))) }));
    await s0.request({ type: 'message_send', roomId, content: 'read from presence' });
    await eventually(() => expect(said(s1, roomId)).toEqual(['read from presence']));
    await Promise.all([s0.close(), s1.close()]);
  });
});
