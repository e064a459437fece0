import { afterAll, describe, expect, inject, it } from 'vitest';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DeleteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { apiOk, api, connect, createUser, eventually, type TestUser } from '#test/support/clients.ts';
import { LOCAL_CREDENTIALS, LOCAL_REGION } from '#infra/local/services.ts';
import { TABLE } from '#shared/adapters/dynamodb/table.ts';
import { keys } from '#shared/adapters/dynamodb/entities/keys.ts';
import { sentName } from '#shared/adapters/dynamodb/entities/seat.ts';
import { migrateSeats } from '#shared/adapters/dynamodb/seat-migration.ts';

/**
 * Seats (each member's role, read marks, send window and claims, in the user's own partition):
 * kept in step with the member items on joining and leaving, and a table written before seats
 * (member items holding the marks and claims, no seat) that keeps working: a send or receipt
 * makes the member's seat, claims and marks carried over; `npm run migrate:seats` does the rest.
 */
const db = DynamoDBDocumentClient.from(new DynamoDBClient({ endpoint: inject('dynamoEndpoint'), region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS }));
afterAll(() => db.destroy());

const httpUrl = inject('httpUrl');
const ok = (user: TestUser, method: string, path: string, body?: unknown) => apiOk(httpUrl, user, method, path, body);
const call = (user: TestUser, method: string, path: string, body?: unknown) => api(httpUrl, method, path, { token: user.token, ...(body !== undefined && { body }) });
const item = async (key: { PK: string; SK: string }) => (await db.send(new GetCommand({ TableName: TABLE.defaultName, Key: key, ConsistentRead: true }))).Item;
const seatOf = (roomId: string, userId: string) => item(keys.seat(userId, roomId));
const memberOf = (roomId: string, userId: string) => item(keys.member(roomId, userId));
const myRoom = async (user: TestUser, roomId: string) => ((await ok(user, 'GET', '/rooms?limit=100')).items as { room: { id: string }; role: string; unreadCount: number; lastReadSeq: number }[]).find((r) => r.room.id === roomId);

/**
 * Makes a member as a function deployed before seats left them: no seat, and the marks, claims
 * and send window on the member item.
 */
async function asBeforeSeats(roomId: string, userId: string, legacy: Record<string, unknown>): Promise<void> {
  await db.send(new DeleteCommand({ TableName: TABLE.defaultName, Key: keys.seat(userId, roomId) }));
  const names = Object.keys(legacy);
  await db.send(
    new UpdateCommand({
      TableName: TABLE.defaultName,
      Key: keys.member(roomId, userId),
      UpdateExpression: `SET ${names.map((_, i) => `#a${i} = :v${i}`).join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(names.map((n, i) => [`#a${i}`, n])),
      ExpressionAttributeValues: Object.fromEntries(names.map((n, i) => [`:v${i}`, legacy[n]])),
    }),
  );
}

describe('seats', () => {
  it('come and go with the membership: a member who leaves loses theirs (and the room from their list), one who joins again starts unread', async () => {
    const [ann, bo] = (await Promise.all([createUser(httpUrl, 'ann'), createUser(httpUrl, 'bo')])) as [TestUser, TestUser];
    const roomId = (await ok(ann, 'POST', '/rooms', { type: 'group', name: 'Open', visibility: 'public', memberIds: [] })).id as string;
    expect(await seatOf(roomId, ann.userId)).toMatchObject({ role: 'admin', lastReadSeq: 0 });
    await ok(bo, 'POST', `/rooms/${roomId}/join`);
    await ok(ann, 'POST', `/rooms/${roomId}/messages`, { content: 'one' });
    const two = await ok(ann, 'POST', `/rooms/${roomId}/messages`, { content: 'two' });
    await ok(bo, 'POST', `/rooms/${roomId}/read`, { messageId: two.id });
    expect(await myRoom(bo, roomId)).toMatchObject({ role: 'member', lastReadSeq: two.seq, unreadCount: 0 });
    // A role change reaches the seat, which the list reads the role from.
    await ok(ann, 'PATCH', `/rooms/${roomId}/members/${bo.userId}`, { role: 'moderator' });
    expect(await myRoom(bo, roomId)).toMatchObject({ role: 'moderator' });

    await ok(bo, 'DELETE', `/rooms/${roomId}/members/${bo.userId}`);
    expect(await seatOf(roomId, bo.userId)).toBeUndefined();
    expect(await myRoom(bo, roomId)).toBeUndefined();
    expect((await call(bo, 'POST', `/rooms/${roomId}/messages`, { content: 'gone' })).status).toBe(403);
    expect((await call(bo, 'POST', `/rooms/${roomId}/read`, { messageId: two.id })).status).toBe(403);

    await ok(bo, 'POST', `/rooms/${roomId}/join`);
    const back = await myRoom(bo, roomId);
    // Everything since the room began is unread again (the system messages of leaving and joining included), as before seats.
    expect(back).toMatchObject({ role: 'member', lastReadSeq: 0 });
    expect(back!.unreadCount).toBeGreaterThan(two.seq);
  });

  it('of a table written before them: sends and receipts make them from the member items (claims and marks carried over), the migration the rest, twice over harmlessly', async () => {
    const [ann, bo, cy, dee, eve] = (await Promise.all(['ann', 'bo', 'cy', 'dee', 'eve'].map((n) => createUser(httpUrl, n)))) as [TestUser, TestUser, TestUser, TestUser, TestUser];
    const roomId = (await ok(ann, 'POST', '/rooms', { type: 'group', name: 'Old', memberIds: [bo.userId, cy.userId, dee.userId] })).id as string;
    const other = (await ok(ann, 'POST', '/rooms', { type: 'group', name: 'Old too', memberIds: [bo.userId] })).id as string;
    const m1 = await ok(ann, 'POST', `/rooms/${roomId}/messages`, { content: 'first', clientMessageId: 'c-1' });
    const m2 = await ok(ann, 'POST', `/rooms/${roomId}/messages`, { content: 'second' });
    const o1 = await ok(ann, 'POST', `/rooms/${other}/messages`, { content: 'elsewhere' });
    // As stored before seats: Ann's send of c-1 claimed on her member item, Bo had read m1, the others nothing.
    await asBeforeSeats(roomId, ann.userId, { lastReadSeq: 0, sentSeq: m2.seq, sent: { [sentName('c-1')]: m1.seq }, readSource: 'send' });
    await asBeforeSeats(roomId, bo.userId, { lastReadSeq: m1.seq, lastReadAt: m1.createdAt, lastReadMessageId: m1.id, sent: {}, readSource: 'receipt' });
    await asBeforeSeats(roomId, cy.userId, { lastReadSeq: 0, sent: {} });
    await asBeforeSeats(roomId, dee.userId, { lastReadSeq: 0, sent: {} });
    await asBeforeSeats(other, ann.userId, { lastReadSeq: 0, sentSeq: o1.seq, sent: {} });
    await asBeforeSeats(other, bo.userId, { lastReadSeq: 0, sent: {} });
    // A seat with no member item at all (as a removal by a function deployed before seats, whose
    // stream record was lost, would leave it): the migration removes it.
    await db.send(new PutCommand({ TableName: TABLE.defaultName, Item: { ...keys.seat(eve.userId, roomId), et: 'seat', roomId, userId: eve.userId, role: 'member', joinedAt: m1.createdAt, lastReadSeq: 0, sent: {} } }));

    // Ann retries c-1 (HTTP): her seat is made from the member item with the claim, and the first message comes back.
    const retried = await call(ann, 'POST', `/rooms/${roomId}/messages`, { content: 'first', clientMessageId: 'c-1' });
    expect(retried.status).toBe(200);
    expect(retried.body).toMatchObject({ id: m1.id, seq: m1.seq });
    expect(await seatOf(roomId, ann.userId)).toMatchObject({ sentSeq: m2.seq, sent: { [sentName('c-1')]: m1.seq } });

    const annSocket = await connect(inject('wsUrl'), ann);
    const [boSocket, cySocket] = await Promise.all([connect(inject('wsUrl'), bo), connect(inject('wsUrl'), cy)]);
    try {
      // Bo sends over the WebSocket: his seat carries his read mark, then his send's.
      const sent = await boSocket.request({ type: 'message_send', roomId, content: 'bo here', clientMessageId: 'b-1' });
      expect(sent).toMatchObject({ type: 'ack', result: { seq: m2.seq + 1 } });
      expect(await seatOf(roomId, bo.userId)).toMatchObject({ lastReadSeq: m1.seq, lastReadMessageId: m1.id, sentSeq: m2.seq + 1 });
      // Cy's receipt over the WebSocket makes his seat, and the room hears it from the seat's stream record.
      expect(await cySocket.request({ type: 'read', roomId, messageId: m2.id })).toMatchObject({ type: 'ack', result: { lastReadSeq: m2.seq, unreadCount: 1 } });
      await annSocket.next((f) => f.type === 'messages_read' && f.roomId === roomId && f.userId === cy.userId && f.seq === m2.seq && f.messageId === m2.id);
      // Dee's over HTTP.
      await expect(ok(dee, 'POST', `/rooms/${roomId}/read`, { messageId: m1.id })).resolves.toEqual({ lastReadSeq: m1.seq, unreadCount: 2 });
      await annSocket.next((f) => f.type === 'messages_read' && f.userId === dee.userId && f.seq === m1.seq);
    } finally {
      await Promise.all([annSocket.close(), boSocket.close(), cySocket.close()]);
    }
    // The other room's members have no seat yet: the list shows the room once the migration made theirs.
    expect(await seatOf(other, bo.userId)).toBeUndefined();

    const first = await migrateSeats(db, TABLE.defaultName);
    expect(first.seatsCreated).toBeGreaterThanOrEqual(2);
    for (const userId of [ann.userId, bo.userId, cy.userId, dee.userId]) {
      const m = await memberOf(roomId, userId);
      // The member item keeps who and which role; marks and claims live on the seat alone (its
      // mark stays 0 for functions deployed before seats, as on members added now).
      expect(m && Object.keys(m).filter((k) => ['sentSeq', 'sent', 'readSource', 'lastReadAt', 'lastReadMessageId'].includes(k))).toEqual([]);
      expect(m?.lastReadSeq).toBe(0);
      expect(await seatOf(roomId, userId)).toBeDefined();
    }
    expect(await seatOf(other, ann.userId)).toMatchObject({ role: 'admin', sentSeq: o1.seq });
    expect(await seatOf(roomId, eve.userId)).toBeUndefined();
    expect(await myRoom(bo, other)).toMatchObject({ role: 'member', lastReadSeq: 0, unreadCount: 1 });
    expect(await myRoom(ann, other)).toMatchObject({ role: 'admin', lastReadSeq: o1.seq, unreadCount: 0 });
    expect(await myRoom(bo, roomId)).toMatchObject({ lastReadSeq: m2.seq + 1, unreadCount: 0 });
    const unread = await ok(cy, 'GET', '/unread');
    expect(unread.rooms).toContainEqual({ roomId, unreadCount: 1 });
    // Read by: from the seats' marks.
    const read = await ok(ann, 'GET', `/rooms/${roomId}/messages/${m1.id}`);
    expect(read.readBy.map((r: { userId: string }) => r.userId).sort()).toEqual([bo.userId, cy.userId, dee.userId].sort());
    const members = await ok(ann, 'GET', `/rooms/${roomId}/members`);
    expect(members.items.find((m: { userId: string }) => m.userId === cy.userId).lastReadSeq).toBe(m2.seq);

    // Again: nothing of these rooms changes.
    const seatsBefore = await Promise.all([ann, bo, cy, dee].map((u) => seatOf(roomId, u.userId)));
    await migrateSeats(db, TABLE.defaultName);
    expect(await Promise.all([ann, bo, cy, dee].map((u) => seatOf(roomId, u.userId)))).toEqual(seatsBefore);
    // And a retry of c-1 still finds its message, now from the seat.
    await expect(call(ann, 'POST', `/rooms/${roomId}/messages`, { content: 'first', clientMessageId: 'c-1' })).resolves.toMatchObject({ status: 200, body: { id: m1.id } });
  });

  it('left behind by a removal that took the member item alone (a function deployed before seats) go with its stream record: the removed member can no longer send', async () => {
    const [ann, bo] = (await Promise.all([createUser(httpUrl, 'ann'), createUser(httpUrl, 'bo')])) as [TestUser, TestUser];
    const roomId = (await ok(ann, 'POST', '/rooms', { type: 'group', name: 'Old removal', memberIds: [bo.userId] })).id as string;
    await ok(bo, 'POST', `/rooms/${roomId}/messages`, { content: 'still here' });
    await db.send(new DeleteCommand({ TableName: TABLE.defaultName, Key: keys.member(roomId, bo.userId) }));
    await eventually(async () => expect(await seatOf(roomId, bo.userId)).toBeUndefined(), 10_000);
    expect((await call(bo, 'POST', `/rooms/${roomId}/messages`, { content: 'gone' })).status).toBe(403);
    // A member who joined again since keeps the new seat: only the removed membership's goes.
    await ok(ann, 'POST', `/rooms/${roomId}/members`, { userId: bo.userId });
    await ok(bo, 'POST', `/rooms/${roomId}/messages`, { content: 'back' });
    expect(await seatOf(roomId, bo.userId)).toBeDefined();
  });

  it('of members removed while a send made theirs from the member item: none is left behind', async () => {
    const [ann, bo] = (await Promise.all([createUser(httpUrl, 'ann'), createUser(httpUrl, 'bo')])) as [TestUser, TestUser];
    const roomId = (await ok(ann, 'POST', '/rooms', { type: 'group', name: 'Race', memberIds: [bo.userId] })).id as string;
    await asBeforeSeats(roomId, bo.userId, { lastReadSeq: 0, sent: {} });
    // Bo sends while Ann removes him, many times over: either the send is refused, or it made a
    // seat that the removal took away with the member item. Never a seat without a member.
    const sending = Array.from({ length: 5 }, () => call(bo, 'POST', `/rooms/${roomId}/messages`, { content: 'racing' }));
    const removing = call(ann, 'DELETE', `/rooms/${roomId}/members/${bo.userId}`);
    const outcomes = await Promise.all([...sending, removing]);
    expect(outcomes.at(-1)!.status).toBe(204);
    for (const o of outcomes.slice(0, -1)) expect([201, 403]).toContain(o.status);
    await eventually(async () => {
      expect(await memberOf(roomId, bo.userId)).toBeUndefined();
      expect(await seatOf(roomId, bo.userId)).toBeUndefined();
    });
  });
});
