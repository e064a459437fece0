import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { startRuntime, type Runtime } from '#test/support/runtime.ts';
import { api, connect, createGroupRoom, createUser, createUsers, eventually, type TestSocket, type TestUser } from '#test/support/clients.ts';
import { connectionEntry, keys } from '#shared/adapters/dynamodb/entities/keys.ts';
import { connection } from '#shared/adapters/dynamodb/entities/connection.ts';
import { live } from '#shared/adapters/dynamodb/entities/live.ts';
import { TABLE } from '#shared/adapters/dynamodb/table.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#infra/local/services.ts';
import { createTableClient } from '#functions/lib/compose.ts';
import type { DepsConfig } from '#functions/lib/config.ts';
import { meterCapacity, type CapacityReading } from '#shared/adapters/dynamodb/capacity.ts';
import { localDynamoDbApi } from '#test/support/table.ts';
import { DynamoRoomStore } from '#shared/adapters/dynamodb/room-store.ts';
import { FIRST_MEMBER_PAGE } from '#shared/adapters/dynamodb/membership.ts';

/**
 * The stream fan-out with workers: a runtime whose fan-out splits every delivery of more than one
 * connection across invocations of its worker function, so the rooms here (a few members) take
 * the path a room of thousands takes.
 */
const INVOKE_WORKER = 'stream-fanout: lambda:InvokeFunction on function stream-fanout-worker';
const dynamoEndpoint = inject('dynamoEndpoint');
const db = new DynamoDBClient({ endpoint: dynamoEndpoint, region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
const runtimeEnv = (tableName: string, extra: Record<string, string> = {}) => ({
  AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint,
  PARLEY_TABLE_NAME: tableName,
  // One connection a chunk: every delivery to two connections or more goes through workers, so a
  // stale connection (never alone in a delivery here) is always met by a worker.
  PARLEY_FANOUT_CHUNK: '1',
  PARLEY_SEND_RATE_LIMIT: '0',
  PARLEY_WRITE_RATE_LIMIT: '0',
  ...extra,
});

let rt: Runtime;
const tableName = `fanout-${randomUUID().slice(0, 8)}`;
beforeAll(async () => {
  rt = await startRuntime(runtimeEnv(tableName));
}, 120_000);
afterAll(async () => {
  await rt?.stop();
  db.destroy();
});

const users = (prefix: string, n: number) => createUsers(rt.httpUrl, prefix, n);
const groupRoom = (owner: TestUser, others: TestUser[], httpUrl = rt.httpUrl) => createGroupRoom(httpUrl, owner, others);
const seqsIn = (s: TestSocket, roomId: string) => s.frames.filter((f) => f.type === 'message_new' && f.message.roomId === roomId).map((f) => f.message.seq as number);

describe('fan-out across workers', () => {
  it('splits a room across workers, and every connection gets the room\'s messages once each, in the one order of the stream', async () => {
    const people = await users('w', 7);
    const roomId = await groupRoom(people[0]!, people.slice(1));
    // Two tabs for one member: both connections get everything.
    const sockets = await Promise.all([...people, people[1]!].map((u) => connect(rt.wsUrl, u)));
    const first = (await sockets[0]!.request({ type: 'message_send', roomId, content: 'm0' })).result.seq as number;
    // Sent back to back from two members: the stream holds them in one room's order.
    await Promise.all([
      (async () => {
        for (let i = 1; i < 10; i++) await sockets[0]!.request({ type: 'message_send', roomId, content: `a${i}` });
      })(),
      (async () => {
        for (let i = 1; i < 10; i++) await sockets[3]!.request({ type: 'message_send', roomId, content: `b${i}` });
      })(),
    ]);
    const expected = Array.from({ length: 19 }, (_, i) => first + i);
    for (const s of sockets) await eventually(() => expect([...seqsIn(s, roomId)].sort((x, y) => x - y)).toEqual(expected), 15_000);
    // Every connection in the one order the stream holds the room's messages in (two concurrent
    // sends may store seq 3 before seq 2; the gap is the client's to fill), each sender's in seq order.
    const order = seqsIn(sockets[0]!, roomId);
    for (const s of sockets) expect(seqsIn(s, roomId)).toEqual(order);
    const contentOf = new Map(sockets[0]!.frames.filter((f) => f.type === 'message_new').map((f) => [f.message.seq as number, String(f.message.content)]));
    for (const prefix of ['a', 'b']) {
      const mine = order.filter((seq) => contentOf.get(seq)!.startsWith(prefix));
      expect(mine).toEqual([...mine].sort((x, y) => x - y));
    }
    await Promise.all(sockets.map((s) => s.close()));
  });

  it('keeps each room in order when rooms are interleaved, for a member of both', async () => {
    const people = await users('i', 6);
    const [both] = people;
    const roomA = await groupRoom(people[1]!, [both!, people[2]!, people[3]!]);
    const roomB = await groupRoom(people[4]!, [both!, people[5]!, people[3]!]);
    const sockets = await Promise.all(people.map((u) => connect(rt.wsUrl, u)));
    const [, a, , , b] = sockets;
    // Room A's and room B's messages alternate in the stream; their items have different partition keys.
    await Promise.all(
      [a, b].map(async (s, n) => {
        for (let i = 0; i < 12; i++) await s!.request({ type: 'message_send', roomId: n === 0 ? roomA : roomB, content: `${n}-${i}` });
      }),
    );
    for (const s of [sockets[0]!, sockets[3]!]) {
      await eventually(() => expect(seqsIn(s, roomA)).toHaveLength(12), 15_000);
      await eventually(() => expect(seqsIn(s, roomB)).toHaveLength(12), 15_000);
      for (const roomId of [roomA, roomB]) {
        const seqs = seqsIn(s, roomId);
        expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
      }
    }
    // Room B's other members never see room A's messages, and the other way round.
    expect(seqsIn(sockets[5]!, roomA)).toEqual([]);
    expect(seqsIn(sockets[2]!, roomB)).toEqual([]);
    await Promise.all(sockets.map((s) => s.close()));
  });

  it('reaches members only: never a connected outsider, never a member once removed', async () => {
    const people = await users('x', 5);
    const [owner, , , leaving, outsider] = people;
    const roomId = await groupRoom(owner!, people.slice(1, 4));
    const sockets = await Promise.all(people.map((u) => connect(rt.wsUrl, u)));
    await sockets[0]!.request({ type: 'message_send', roomId, content: 'before' });
    await eventually(() => expect(seqsIn(sockets[3]!, roomId)).toHaveLength(1));
    expect((await api(rt.httpUrl, 'DELETE', `/rooms/${roomId}/members/${leaving!.userId}`, { token: owner!.token })).status).toBeLessThan(300);
    await sockets[3]!.next((f) => f.type === 'user_left' && f.userId === leaving!.userId);
    for (let i = 0; i < 3; i++) await sockets[0]!.request({ type: 'message_send', roomId, content: `after ${i}` });
    await eventually(() => expect(seqsIn(sockets[1]!, roomId)).toHaveLength(5));
    await new Promise((r) => setTimeout(r, 300));
    expect(seqsIn(sockets[3]!, roomId)).toHaveLength(1);
    expect(sockets[4]!.frames.filter((f) => f.type !== 'connection_established' && f.userId !== outsider!.userId)).toEqual([]);
    await Promise.all(sockets.map((s) => s.close()));
  });

  it('uses the member ids read for the room\'s earlier messages only while its members stay the same: one added or removed since is reached or left out at once', async () => {
    const people = await users('v', 5);
    const [owner, stays, leaving, joining, outsider] = people as [TestUser, TestUser, TestUser, TestUser, TestUser];
    const roomId = await groupRoom(owner, [stays, leaving]);
    const [s0, s1, s2, s3, s4] = (await Promise.all(people.map((u) => connect(rt.wsUrl, u)))) as [TestSocket, TestSocket, TestSocket, TestSocket, TestSocket];
    // Three messages of one member version: the first one's fan-out notes it, the second's reads
    // the ids strongly consistent and keeps them, the third's uses them.
    // What each socket was sent of the room's messages (the system messages of the join and the removal aside).
    const said = (s: TestSocket) => s.frames.filter((f) => f.type === 'message_new' && f.message.roomId === roomId && f.message.type !== 'system').map((f) => String(f.message.content));
    const kept = ['kept 0', 'kept 1', 'kept 2'];
    for (const content of kept) await s0.request({ type: 'message_send', roomId, content });
    await eventually(() => expect(said(s2)).toEqual(kept));
    expect((await api(rt.httpUrl, 'POST', `/rooms/${roomId}/members`, { token: owner.token, body: { userId: joining.userId } })).status).toBe(201);
    await s0.request({ type: 'message_send', roomId, content: 'after the join' });
    await eventually(() => expect(said(s3)).toEqual(['after the join']));
    expect((await api(rt.httpUrl, 'DELETE', `/rooms/${roomId}/members/${leaving.userId}`, { token: owner.token })).status).toBeLessThan(300);
    const after = ['after the removal 0', 'after the removal 1', 'after the removal 2'];
    for (const content of after) await s0.request({ type: 'message_send', roomId, content });
    await eventually(() => expect(said(s1)).toEqual([...kept, 'after the join', ...after]));
    await eventually(() => expect(said(s3)).toEqual(['after the join', ...after]));
    await new Promise((r) => setTimeout(r, 300));
    expect(said(s2)).toEqual([...kept, 'after the join']);
    expect(said(s4)).toEqual([]);
    expect(s4.frames.filter((f) => f.type !== 'connection_established' && f.userId !== outsider.userId)).toEqual([]);
    await Promise.all([s0, s1, s2, s3, s4].map((s) => s.close()));
  });

  it('forgets a connection API Gateway answers 410 for, item, presence entry and live list entry, when a worker posts to it', async () => {
    const people = await users('g', 4);
    const roomId = await groupRoom(people[0]!, people.slice(1));
    const sockets = await Promise.all(people.map((u) => connect(rt.wsUrl, u)));
    // A connection whose `$disconnect` was lost an hour ago: listed on the user's presence, its item still there.
    const stale = `stale${randomUUID().slice(0, 8)}=`;
    const connectedAt = new Date(Date.now() - 3_600_000).toISOString();
    const owner = people[2]!;
    // Stored in two writes, so that no INSERT of a connection reaches the fan-out (which would greet
    // it, meet the 410 and forget it itself): what is left is a connection only a delivery meets.
    const { [TABLE.entityAttribute]: entity, ...item } = connection.toItem({ connectionId: stale, userId: owner.userId, displayName: owner.displayName, connectedAt }, 4 * 3600);
    await db.send(new PutItemCommand({ TableName: tableName, Item: marshall(item) }));
    await db.send(
      new UpdateItemCommand({ TableName: tableName, Key: marshall(keys.connection(stale)), UpdateExpression: 'SET #et = :et', ExpressionAttributeNames: { '#et': TABLE.entityAttribute }, ExpressionAttributeValues: marshall({ ':et': entity }) }),
    );
    await db.send(
      new UpdateItemCommand({ TableName: tableName, Key: marshall(keys.presence(owner.userId)), UpdateExpression: 'ADD conns :c', ExpressionAttributeValues: { ':c': { SS: [connectionEntry(stale)] } } }),
    );
    // And in the room's live list, as its listing left it.
    await db.send(new PutItemCommand({ TableName: tableName, Item: marshall(live.toItem(roomId, { connectionId: stale, userId: owner.userId }, Math.floor(Date.now() / 1000) + 3600)) }));
    await sockets[0]!.request({ type: 'message_send', roomId, content: 'to a gone one' });
    await eventually(async () => {
      const { Item } = await db.send(new GetItemCommand({ TableName: tableName, Key: marshall(keys.connection(stale)) }));
      expect(Item).toBeUndefined();
    }, 10_000);
    await eventually(async () => {
      const { Item } = await db.send(new GetItemCommand({ TableName: tableName, Key: marshall(keys.presence(owner.userId)) }));
      expect(Item?.conns?.SS ?? []).not.toContain(connectionEntry(stale));
      // The user's live connection stays listed: they are still online.
      expect(Item?.conns?.SS).toHaveLength(1);
    }, 10_000);
    // Its entry in the room's live list goes with its item (the removal's stream record).
    await eventually(async () => {
      const { Item } = await db.send(new GetItemCommand({ TableName: tableName, Key: marshall(keys.live(roomId, stale)) }));
      expect(Item).toBeUndefined();
    }, 10_000);
    await eventually(() => expect(seqsIn(sockets[2]!, roomId)).toHaveLength(1));
    // Done by the worker on its first try (no stream record failed and came again).
    expect(rt.errors()).not.toContain('Stream record failed');
    await Promise.all(sockets.map((s) => s.close()));
  });
});

describe('fan-out of a room read in several parts', () => {
  // The room's live list of 150 connections is read as a first page of 128, then the rest in
  // ranges of connection ids read at once (liveRanges): the first page fits one share (130) and is
  // posted by the fan-out itself; the parts that take the total past 130 go to a worker.
  let big: Runtime;
  beforeAll(async () => {
    big = await startRuntime(runtimeEnv(`fanout-parts-${randomUUID().slice(0, 8)}`, { PARLEY_FANOUT_CHUNK: '130' }));
  }, 120_000);
  afterAll(() => big?.stop());

  it('posts the first page itself and the rest through a worker: every connection gets every message once, in the one order', async () => {
    const people = await Promise.all(Array.from({ length: 150 }, () => createUser(big.httpUrl, 'p')));
    const res = await api(big.httpUrl, 'POST', '/rooms', { token: people[0]!.token, body: { type: 'group', name: 'Parts', memberIds: people.slice(1).map((u) => u.userId), maxMembers: 150 } });
    expect(res.status).toBe(201);
    const roomId = res.body.id as string;
    const sockets: TestSocket[] = [];
    for (let i = 0; i < people.length; i += 25) sockets.push(...(await Promise.all(people.slice(i, i + 25).map((u) => connect(big.wsUrl, u)))));
    await Promise.all(
      [0, 75].map(async (sender) => {
        for (let i = 0; i < 4; i++) await sockets[sender]!.request({ type: 'message_send', roomId, content: `${sender}-${i}` });
      }),
    );
    for (const s of sockets) await eventually(() => expect(seqsIn(s, roomId)).toHaveLength(8), 15_000);
    const order = seqsIn(sockets[0]!, roomId);
    expect(new Set(order).size).toBe(8);
    for (const s of sockets) expect(seqsIn(s, roomId)).toEqual(order);
    expect(big.errors()).not.toContain('Stream record failed');
    await Promise.all(sockets.map((s) => s.close()));
  }, 60_000);
});

describe('member ids for a fan-out', () => {
  it('come page by page (the first of FIRST_MEMBER_PAGE), every member once; without a listener, in one query', async () => {
    const people = await users('m', FIRST_MEMBER_PAGE + 5);
    const res = await api(rt.httpUrl, 'POST', '/rooms', { token: people[0]!.token, body: { type: 'group', name: 'Pages', memberIds: people.slice(1).map((u) => u.userId), maxMembers: people.length } });
    expect(res.status).toBe(201);
    const roomId = res.body.id as string;
    const calls: CapacityReading[] = [];
    const { table } = createTableClient({ tableName } as DepsConfig, { clients: { dynamo: localDynamoDbApi(dynamoEndpoint) }, meter: meterCapacity((r) => void calls.push(r)) });
    const store = new DynamoRoomStore(table);
    const pages: (readonly string[])[] = [];
    const all = await store.listMemberIds(roomId, (page) => void pages.push(page));
    expect(pages.map((p) => p.length)).toEqual([FIRST_MEMBER_PAGE, 5]);
    expect(pages.flat()).toEqual(all);
    expect([...all].sort()).toEqual(people.map((u) => u.userId).sort());
    expect(calls.filter((c) => c.operation === 'listMemberIds')).toHaveLength(2);
    calls.length = 0;
    expect(await store.listMemberIds(roomId)).toEqual(all);
    expect(calls.filter((c) => c.operation === 'listMemberIds')).toHaveLength(1);

    // By member version (a message's): noted the first time, read strongly consistent and kept
    // the second, no read from then on; never for another version, or a room without one.
    const { Item } = await db.send(new GetItemCommand({ TableName: tableName, Key: marshall(keys.room(roomId)), ConsistentRead: true }));
    // Made with its members written after it (a room this large): 1 at the put, 2 once they were.
    expect(Item?.memberVersion?.N).toBe('2');
    const reads = async (asOf?: number) => {
      calls.length = 0;
      const handed: (readonly string[])[] = [];
      const ids = await store.listMemberIds(roomId, (page) => void handed.push(page), asOf);
      expect([...ids].sort()).toEqual([...all].sort());
      expect(handed.flat()).toEqual([...ids]);
      return calls.filter((c) => c.operation === 'listMemberIds').map((c) => c.input.ConsistentRead === true);
    };
    expect(await reads(2)).toEqual([false, false]);
    expect(await reads(2)).toEqual([true, true]);
    expect(await reads(2)).toEqual([]);
    expect(await reads(2)).toEqual([]);
    expect(await reads(3)).toEqual([false, false]);
    expect(await reads(2)).toEqual([false, false]);
    expect(await reads(0)).toEqual([false, false]);
    expect(await reads(0)).toEqual([false, false]);
    expect(await reads()).toEqual([false, false]);
  });
});

describe('fan-out without the grant to invoke its worker', () => {
  let denied: Runtime;
  beforeAll(async () => {
    denied = await startRuntime(runtimeEnv(`fanout-denied-${randomUUID().slice(0, 8)}`, { PARLEY_IAM_REVOKE: INVOKE_WORKER, PARLEY_FANOUT_CHUNK: '2' }));
  }, 120_000);
  afterAll(() => denied?.stop());

  it('delivers to rooms it posts to itself, and is refused (AccessDenied) where it would split', async () => {
    const people = await Promise.all(Array.from({ length: 4 }, () => createUser(denied.httpUrl, 'd')));
    const small = await groupRoom(people[0]!, [people[1]!], denied.httpUrl);
    const big = await groupRoom(people[0]!, people.slice(1), denied.httpUrl);
    const sockets = await Promise.all(people.map((u) => connect(denied.wsUrl, u)));
    await sockets[0]!.request({ type: 'message_send', roomId: big, content: 'to all' });
    await sockets[0]!.request({ type: 'message_send', roomId: small, content: 'to two' });
    await eventually(() => expect(seqsIn(sockets[1]!, small)).toHaveLength(1), 10_000);
    await eventually(() => expect(denied.errors()).toContain('parley-stream-fanout may not lambda:InvokeFunction'), 10_000);
    expect(seqsIn(sockets[1]!, big)).toEqual([]);
    await Promise.all(sockets.map((s) => s.close()));
  });
});
