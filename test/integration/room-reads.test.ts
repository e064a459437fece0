import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { keys } from '#shared/adapters/dynamodb/entities/keys.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#infra/local/services.ts';
import { createTableInput } from '#infra/local/provision.ts';
import { allWirings, createDeps } from '#functions/lib/compose.ts';
import { itemBytes, meterCapacity, type CapacityReading } from '#shared/adapters/dynamodb/capacity.ts';
import { localDynamoDbApi } from '#test/support/table.ts';
import type { User } from '#shared/model.ts';
import type { Deps, Settings } from '#shared/ports/runtime.ts';
import type { SendMessageInput } from '#shared/schemas/messages.ts';
import { createRoom, getRoom, listMyRooms, listUnread } from '#shared/domain/rooms.ts';
import { appendMessage, deleteMessage, listMessages, sendMessage } from '#shared/domain/messages.ts';
import { markRead } from '#shared/domain/receipts.ts';
import { joinRoom, listMembers, removeMember } from '#shared/domain/members.ts';
import { getMessage } from '#shared/domain/messages.ts';
import { addReaction } from '#shared/domain/reactions.ts';
import { toCalls, reads, writes, type Call } from '#bench/lib/meter.ts';
import { textOf } from '#bench/lib/clients.ts';

// The reads that take a room with its newest message (one Query of the room partition) against
// DynamoDB Local, in this process: the use-cases with the real stores on a table of their own,
// metered call by call and priced as AWS prices them.
const client = new DynamoDBClient({ endpoint: inject('dynamoEndpoint'), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS });
const table = `room-reads-${randomUUID()}`;
const readings: CapacityReading[] = [];

const settings: Settings = {
  maxContentLength: 4000,
  editWindowSeconds: 0,
  maxReactionsPerMessage: 50,
  searchScanBudget: 1000,
  rateLimits: { send: { limit: 0, windowSeconds: 60 }, write: { limit: 0, windowSeconds: 10 }, search: { limit: 0, windowSeconds: 60 } },
};
let deps: Deps;

const users = (label: string, n: number): User[] => Array.from({ length: n }, (_, i) => ({ userId: `${label}-${i}-${randomUUID().slice(0, 8)}`, displayName: `${label} ${i}` }));
const groupOf = async (members: User[], name = 'Room reads') =>
  (await createRoom(deps, members[0]!, { type: 'group', name, memberIds: members.slice(1).map((m) => m.userId) })).room.id;
const send = (actor: User, roomId: string, input: Omit<SendMessageInput, 'messageType'>) => sendMessage(deps, actor, roomId, { messageType: 'text', ...input });
/** 1 KB of ordinary prose, as the bench sends (one repeated letter would compress to nothing). */
const kb = (label: string) => textOf(label, 1024);

/** The AWS-priced calls made while `run` ran. */
async function metered<T>(run: () => Promise<T>): Promise<{ result: T; calls: Call[]; readUnits: number; writeUnits: number }> {
  readings.length = 0;
  const result = await run();
  const calls = await toCalls(readings.splice(0), client, table);
  return { result, calls, readUnits: calls.reduce((s, c) => s + reads(c.aws), 0), writeUnits: calls.reduce((s, c) => s + writes(c.aws), 0) };
}
const unitsOf = (calls: Call[], operation: string) => calls.filter((c) => c.operation === operation).map((c) => reads(c.aws));

beforeAll(async () => {
  await client.send(new CreateTableCommand(createTableInput(table)));
  const config = { tableName: table, wsCallbackUrl: 'http://127.0.0.1:1', settings, cursorKey: async () => new Uint8Array(32) };
  deps = createDeps(config, { clients: { dynamo: localDynamoDbApi(inject('dynamoEndpoint')) }, meter: meterCapacity((r) => void readings.push(r)) }, undefined, allWirings).deps;
});
afterAll(async () => {
  await client.send(new DeleteTableCommand({ TableName: table }));
  client.destroy();
});

describe('GET /rooms', () => {
  it('reads 5.5 units for 10 rooms with a 1 KB newest message each: the user\'s seats in one query, each room and its newest message in half a unit, no reactions read', async () => {
    const [owner, ...others] = users('list', 11) as [User, ...User[]];
    const roomIds: string[] = [];
    for (const other of others.slice(0, 10)) {
      const roomId = await groupOf([owner, other]);
      await send(owner, roomId, { content: kb(`r ${roomIds.length}`) });
      roomIds.push(roomId);
    }
    const m = await metered(() => listMyRooms(deps, owner, { limit: 50 }));
    expect(m.result.items).toHaveLength(10);
    const breakdown = [...new Set(m.calls.map((c) => c.operation))].map((op) => `${op} ${unitsOf(m.calls, op).reduce((a, b) => a + b, 0)}`).join(', ');
    console.log(`GET /rooms for 10 rooms: ${m.readUnits} RCU in ${m.calls.length} calls (${breakdown})`);
    // A room item and a 1 KB message summed before rounding: one 4 KB read, half a unit, per room.
    expect(unitsOf(m.calls, 'getRoomWithLatest')).toEqual(Array(10).fill(0.5));
    expect(m.calls.filter((c) => c.operation === 'getRoomWithLatest').every((c) => c.awsNote === undefined)).toBe(true);
    // The user's 10 seats (role and read mark of each room) in one query of half a unit, the rooms
    // with their newest messages 5; neither the user index nor any member item is read. No message
    // was reacted to, so no room's reactedSeq reaches its newest message and no reaction is read.
    expect(unitsOf(m.calls, 'listSeats')).toEqual([0.5]);
    expect(m.calls.map((c) => c.operation).filter((op) => op !== 'getRoomWithLatest')).toEqual(['listSeats']);
    expect(unitsOf(m.calls, 'reactionsBetween')).toEqual([]);
    expect(m.readUnits).toBe(5.5);
    const unread = await metered(() => listUnread(deps, owner));
    expect(unread.readUnits).toBe(5.5);
    expect(m.writeUnits).toBe(0);
  });

  it('shows a room with no message, a deleted newest message and the reactions on the newest, most recent activity first', async () => {
    const [ann, bo] = users('shapes', 2) as [User, User];
    const empty = await groupOf([ann, bo], 'empty');
    const deleted = await groupOf([ann, bo], 'deleted');
    const reacted = await groupOf([ann, bo], 'reacted');
    await send(bo, deleted, { content: 'stays' });
    const gone = (await send(bo, deleted, { content: 'goes' })).message;
    await deleteMessage(deps, bo, deleted, gone.id);
    const liked = (await send(bo, reacted, { content: 'like me' })).message;
    await addReaction(deps, ann, reacted, liked.id, '👍');

    const { items } = await listMyRooms(deps, ann, { limit: 50 });
    expect(items.map((i) => i.displayName)).toEqual(['reacted', 'deleted', 'empty']);
    const [r, d, e] = items as [(typeof items)[0], (typeof items)[0], (typeof items)[0]];
    expect(e.lastMessage).toBeUndefined();
    expect(e).toMatchObject({ unreadCount: 0, lastReadSeq: 0, room: { lastSeq: 0 } });
    expect(d.lastMessage).toMatchObject({ id: gone.id, seq: 2, content: '', deletedAt: expect.any(String) });
    expect(d).toMatchObject({ unreadCount: 2, room: { lastSeq: 2, lastActivityAt: gone.createdAt } });
    expect(r.lastMessage).toMatchObject({ id: liked.id, reactions: [expect.objectContaining({ emoji: '👍', count: 1, me: true })] });

    // The room read on its own says the same; a room with no message keeps its creation time.
    await expect(getRoom(deps, ann, deleted)).resolves.toMatchObject({ lastSeq: 2, lastActivityAt: gone.createdAt });
    const emptyView = await getRoom(deps, ann, empty);
    expect(emptyView).toMatchObject({ lastSeq: 0, lastActivityAt: emptyView.createdAt });

    // A new message moves its room to the top.
    await send(bo, empty, { content: 'first' });
    expect((await listMyRooms(deps, ann, { limit: 50 })).items.map((i) => i.displayName)).toEqual(['empty', 'reacted', 'deleted']);
  });

  it('refuses the room read to a non-member and an unknown room', async () => {
    const [ann, bo, cy] = users('deny', 3) as [User, User, User];
    const roomId = await groupOf([ann, bo]);
    await send(ann, roomId, { content: 'hello' });
    await expect(getRoom(deps, cy, roomId)).rejects.toMatchObject({ code: 'forbidden' });
    await expect(getRoom(deps, ann, `nowhere-${randomUUID()}`)).rejects.toMatchObject({ code: 'not_found' });
    await expect(markRead(deps, cy, roomId, 'whatever')).rejects.toMatchObject({ code: 'forbidden' });
    await expect(listMyRooms(deps, cy, { limit: 50 })).resolves.toEqual({ items: [] });
  });
});

describe('the reactions of a newest message', () => {
  it('are read only at or below the room\'s reactedSeq, which the first reaction of a message raises once', async () => {
    const [ann, bo] = users('rx', 2) as [User, User];
    const roomId = await groupOf([ann, bo]);
    const first = (await send(bo, roomId, { content: 'one' })).message;
    const second = (await send(bo, roomId, { content: 'two' })).message;
    const previewOf = async () => (await listMyRooms(deps, ann, { limit: 50 })).items[0]!.lastMessage!;

    // A reaction to an older message raises the mark to it: the newest is still known unreacted.
    const raise = await metered(() => addReaction(deps, ann, roomId, first.id, '👍'));
    expect(raise.calls.filter((c) => c.operation === 'markReacted')).toHaveLength(1);
    const notRead = await metered(previewOf);
    expect(notRead.result).toMatchObject({ id: second.id, reactions: [] });
    expect(notRead.calls.map((c) => c.operation)).not.toContain('reactionsBetween');

    // The first reaction to the newest raises the mark (one write unit); the next ones write nothing more.
    const firstOnNewest = await metered(() => addReaction(deps, ann, roomId, second.id, '🎉'));
    expect(unitsOf(firstOnNewest.calls, 'markReacted')).toEqual([0]);
    expect(firstOnNewest.calls.filter((c) => c.operation === 'markReacted').map((c) => writes(c.aws))).toEqual([1]);
    const again = await metered(() => addReaction(deps, bo, roomId, second.id, '🎉'));
    expect(again.calls.map((c) => c.operation)).not.toContain('markReacted');
    expect(await previewOf()).toMatchObject({ id: second.id, reactions: [expect.objectContaining({ emoji: '🎉', count: 2 })] });

    // A newer message is unreacted again until someone reacts to it.
    const third = (await send(ann, roomId, { content: 'three' })).message;
    expect(await previewOf()).toMatchObject({ id: third.id, reactions: [] });
    await addReaction(deps, bo, roomId, third.id, '👀');
    expect(await previewOf()).toMatchObject({ id: third.id, reactions: [expect.objectContaining({ emoji: '👀', count: 1 })] });
  });

  it('are always read in a room created before the mark was kept, which no reaction starts marking', async () => {
    const [ann, bo] = users('legacy', 2) as [User, User];
    const roomId = await groupOf([ann, bo]);
    await client.send(new UpdateItemCommand({ TableName: table, Key: marshall(keys.room(roomId)), UpdateExpression: 'REMOVE reactedSeq' }));
    const liked = (await send(bo, roomId, { content: 'old room' })).message;
    await addReaction(deps, ann, roomId, liked.id, '👍');
    const m = await metered(() => listMyRooms(deps, ann, { limit: 50 }));
    expect(m.result.items[0]!.lastMessage).toMatchObject({ id: liked.id, reactions: [expect.objectContaining({ emoji: '👍', count: 1 })] });
    expect(unitsOf(m.calls, 'reactionsBetween')).toEqual([0.5]);
    await expect(getRoom(deps, ann, roomId)).resolves.not.toHaveProperty('reactedSeq');
  });
});

describe('unread counts', () => {
  it('follow sends and receipts in the list, GET /unread and the receipt', async () => {
    const [ann, bo] = users('unread', 2) as [User, User];
    const roomId = await groupOf([ann, bo]);
    const unreadOf = async (u: User) => {
      const [list, total] = await Promise.all([listMyRooms(deps, u, { limit: 50 }), listUnread(deps, u)]);
      const inList = list.items.find((i) => i.room.id === roomId)!.unreadCount;
      expect(total).toEqual(inList > 0 ? { total: inList, rooms: [{ roomId, unreadCount: inList }] } : { total: 0, rooms: [] });
      return inList;
    };
    expect(await unreadOf(ann)).toBe(0);
    const sent: { id: string }[] = [];
    for (let i = 0; i < 3; i++) sent.push((await send(bo, roomId, { content: `bo ${i}` })).message);
    expect(await unreadOf(ann)).toBe(3);
    expect(await unreadOf(bo)).toBe(0);
    // A receipt for an older message, then for the newest (read with the room: no read of the message itself).
    await expect(markRead(deps, ann, roomId, sent[0]!.id)).resolves.toEqual({ lastReadSeq: 1, unreadCount: 2 });
    expect(await unreadOf(ann)).toBe(2);
    const newest = await metered(() => markRead(deps, ann, roomId, sent[2]!.id));
    expect(newest.result).toEqual({ lastReadSeq: 3, unreadCount: 0 });
    expect(newest.calls.map((c) => c.operation).sort()).toEqual(['getRoomWithLatest', 'getSeat', 'markRead']);
    // The room and its newest message strongly consistent in one unit, the seat one: 2 units, not 4.
    expect(newest.readUnits).toBe(2);
    expect(await unreadOf(ann)).toBe(0);
    // My own send moves my mark; theirs after it count again.
    await send(ann, roomId, { content: 'ann' });
    await send(bo, roomId, { content: 'bo again' });
    await send(bo, roomId, { content: 'bo once more' });
    expect(await unreadOf(ann)).toBe(2);
    expect(await unreadOf(bo)).toBe(0);
    // A receipt behind the mark changes nothing.
    await expect(markRead(deps, ann, roomId, sent[1]!.id)).resolves.toEqual({ lastReadSeq: 4, unreadCount: 2 });
  });
});

describe('the newest page of history', () => {
  it('reads the member item, then the room with the page in one consistent query; a non-member is refused before any message is read', async () => {
    const [ann, bo, cy] = users('history', 3) as [User, User, User];
    const roomId = await groupOf([ann, bo]);
    await expect(listMessages(deps, ann, roomId, { limit: 50 })).resolves.toEqual({ items: [] });
    for (let i = 1; i <= 12; i++) await send(i % 2 ? ann : bo, roomId, { content: kb(`h${i}`) });
    const m = await metered(() => listMessages(deps, bo, roomId, { limit: 10 }));
    expect(m.result.items.map((i) => i.seq)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3]);
    expect(m.result.nextCursor).toEqual(expect.any(String));
    expect(m.calls.map((c) => c.operation)).toEqual(['getMemberNow', 'getRoomWithNewest', 'reactionsBetween']);
    // Priced on the summed size of the room and the ten messages, rounded up to 4 KB once.
    const { Items = [] } = await client.send(
      new QueryCommand({ TableName: table, KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to', ExpressionAttributeValues: marshall({ ':pk': `ROOM#${roomId}`, ':from': keys.message(roomId, 3).SK, ':to': 'ROOM' }) }),
    );
    expect(Items).toHaveLength(11);
    const bytes = Items.reduce((sum, item) => sum + itemBytes(item), 0);
    expect(unitsOf(m.calls, 'getRoomWithNewest')).toEqual([Math.ceil(bytes / 4096)]);
    // The page after it reads as before, and a page wider than the room holds no member item.
    const older = await listMessages(deps, bo, roomId, { limit: 10, cursor: m.result.nextCursor! });
    expect(older.items.map((i) => i.seq)).toEqual([2, 1]);
    expect((await listMessages(deps, ann, roomId, { limit: 50 })).items.map((i) => i.seq)).toEqual(Array.from({ length: 12 }, (_, i) => 12 - i));

    const refused = await metered(() => listMessages(deps, cy, roomId, { limit: 50 }).catch((err: unknown) => err));
    expect(refused.result).toMatchObject({ code: 'forbidden' });
    expect(refused.calls.map((c) => c.operation)).toEqual(['getMemberNow', 'getRoomWithLatest']);
    await expect(listMessages(deps, cy, `nowhere-${randomUUID()}`, { limit: 50 })).rejects.toMatchObject({ code: 'not_found' });
  });
});

describe('the send and the system append', () => {
  it('read the room and its newest message in one consistent query: seqs follow on, the send writes 2 units (the seat, and 1 KB of prose stored compressed)', async () => {
    const [ann, bo] = users('send', 2) as [User, User];
    const roomId = await groupOf([ann, bo]);
    const first = await metered(() => send(ann, roomId, { content: kb('first') }));
    expect(first.result.message.seq).toBe(1);
    const m = await metered(() => send(bo, roomId, { content: kb('second') }));
    expect(m.result.message.seq).toBe(2);
    expect(m.writeUnits).toBe(2);
    // The seat eventually consistent (0.5), the room with its 1 KB newest message consistent (1).
    expect(unitsOf(m.calls, 'getRoomWithLatest')).toEqual([1]);
    expect(m.calls.find((c) => c.operation === 'getRoomWithLatest')?.kind).toBe('read');
    expect(m.readUnits).toBe(1.5);
    const appended = await metered(() => appendMessage(deps, roomId, { senderId: 'system', senderName: 'System', type: 'system', content: 'joined', mentions: [] }));
    expect(appended.result?.seq).toBe(3);
    expect(appended.readUnits).toBe(1);
    await expect(getRoom(deps, ann, roomId)).resolves.toMatchObject({ lastSeq: 3 });
  });
});

describe('membership with seats', () => {
  it('writes the seat with the member item on joining and leaving, and reads the marks of "read by" and the member list from the seats', async () => {
    const [ann, bo, ...others] = users('seats', 10) as [User, User, ...User[]];
    const { room } = await createRoom(deps, ann, { type: 'group', name: 'Seats', visibility: 'public', memberIds: others.map((o) => o.userId) });
    const first = await send(ann, room.id, { content: kb('first') });
    const join = await metered(() => joinRoom(deps, bo, room.id));
    expect(join.calls.find((c) => c.operation === 'addMember')?.command).toBe('TransactWriteItems');
    expect((await listMyRooms(deps, bo, { limit: 50 })).items.map((i) => i.room.id)).toEqual([room.id]);
    const readBy = await metered(() => getMessage(deps, ann, room.id, first.message.id));
    expect(readBy.calls.map((c) => c.operation)).toContain('getSeats');
    const members = await metered(() => listMembers(deps, ann, room.id));
    expect(members.result.items).toHaveLength(10);
    const leave = await metered(() => removeMember(deps, bo, room.id, bo.userId));
    expect(leave.calls.find((c) => c.operation === 'removeMember')?.command).toBe('TransactWriteItems');
    expect((await listMyRooms(deps, bo, { limit: 50 })).items).toEqual([]);
    // DynamoDB Local reports 2 units for a transaction of any size; AWS charges 2 an item (member, seat, room: 6).
    const show = (m: { readUnits: number; writeUnits: number; calls: Call[] }) =>
      `${m.readUnits} RCU + ${m.writeUnits} WCU (${m.calls.map((c) => `${c.operation} ${reads(c.aws) || writes(c.aws)}${reads(c.aws) ? 'R' : 'W'}`).join(', ')})`;
    console.log(`join: ${show(join)}\nleave: ${show(leave)}\nread by (room of 10): ${show(readBy)}\nmember list (10): ${show(members)}`);
  });
});
