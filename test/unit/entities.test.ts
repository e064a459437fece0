import { describe, expect, it } from 'vitest';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttachmentRecord, ChangeRecord, ConnectionRecord, MemberRecord, MessageRecord, ReactionRecord, RoomRecord, TypingRecord } from '#shared/model.ts';
import { attachment } from '#shared/adapters/dynamodb/entities/attachment.ts';
import { change } from '#shared/adapters/dynamodb/entities/change.ts';
import { connection } from '#shared/adapters/dynamodb/entities/connection.ts';
import { member } from '#shared/adapters/dynamodb/entities/member.ts';
import { seat, sendWindowName } from '#shared/adapters/dynamodb/entities/seat.ts';
import { message } from '#shared/adapters/dynamodb/entities/message.ts';
import { presence } from '#shared/adapters/dynamodb/entities/presence.ts';
import { rate } from '#shared/adapters/dynamodb/entities/rate.ts';
import { reaction } from '#shared/adapters/dynamodb/entities/reaction.ts';
import { room } from '#shared/adapters/dynamodb/entities/room.ts';
import { typing } from '#shared/adapters/dynamodb/entities/typing.ts';

/** An item as DynamoDB gives it back: marshalled and unmarshalled as the document client does. */
const stored = (item: Record<string, unknown>) => unmarshall(marshall(item, { removeUndefinedValues: true }));

const at = '2026-01-02T03:04:05.000Z';
const epoch = Date.parse(at) / 1000;

const roomRecord: RoomRecord = {
  roomId: 'r1',
  type: 'group',
  name: 'Launch',
  visibility: 'public',
  maxMembers: 10,
  context: { kind: 'order', id: 'o-1' },
  createdBy: 'ann',
  createdAt: at,
  memberCount: 2,
  lastSeq: 7,
  lastActivityAt: at,
};
const memberRecord: MemberRecord = { roomId: 'r1', userId: 'bo', displayName: 'Bo', role: 'member', joinedAt: at };
const messageRecord: MessageRecord = {
  id: 'm1',
  roomId: 'r1',
  seq: 42,
  senderId: 'ann',
  senderName: 'Ann',
  type: 'text',
  content: 'hello',
  mentions: ['bo'],
  metadata: { ['__proto__']: { polluted: true }, '': 1, deep: [1e308, 5e-324] },
  clientMessageId: 'c-1',
  attachments: [{ id: 'a1', key: 'files/r1/a1', name: 'cat.png', size: 10, contentType: 'image/png' }],
  createdAt: at,
};
const reactionRecord: ReactionRecord = { roomId: 'r1', messageId: 'm1', seq: 42, emoji: '#️⃣', userId: 'bo', createdAt: at };
const changeRecord: ChangeRecord = { roomId: 'r1', seq: 42, messageId: 'm1', kind: 'edited', at };
const typingRecord: TypingRecord = { roomId: 'r1', userId: 'bo', displayName: 'Bo', until: at };
const connectionRecord: ConnectionRecord = { connectionId: 'L0SM9cOFvHcCIhw=', userId: 'bo', displayName: 'Bo', scopeRoomId: 'r1', connectedAt: at };
const attachmentRecord: AttachmentRecord = {
  id: 'a1',
  key: 'files/r1/a1',
  name: 'cat.png',
  size: 10,
  contentType: 'image/png',
  roomId: 'r1',
  uploaderId: 'ann',
  createdAt: at,
  status: 'pending',
};

describe('entities: the items records are written as', () => {
  it('writes a room under its partition, typed, with its fields and nothing else', () => {
    expect(room.key('r1')).toEqual({ PK: 'ROOM#r1', SK: 'ROOM' });
    expect(room.toItem(roomRecord)).toEqual({ PK: 'ROOM#r1', SK: 'ROOM', et: 'room', ...roomRecord });
  });

  it('writes a member with its user-index key, and nothing that changes with messages', () => {
    expect(member.toItem(memberRecord)).toEqual({
      PK: 'ROOM#r1',
      SK: 'MEMBER#bo',
      GSI1PK: 'USER#bo',
      GSI1SK: 'ROOM#r1',
      et: 'member',
      ...memberRecord,
      // For functions deployed before seats, during a deploy (nothing reads it now).
      lastReadSeq: 0,
    });
  });

  it('writes a member\'s seat in the user\'s seat partition: role, nothing read, an empty claims map, no index key', () => {
    expect(seat.toItem(memberRecord)).toEqual({ PK: 'SEAT#bo', SK: 'ROOM#r1', et: 'seat', roomId: 'r1', userId: 'bo', role: 'member', joinedAt: at, lastReadSeq: 0, sent: {} });
  });

  it('makes the seat of a member item written before seats from what it held: marks, claims, send windows', () => {
    const legacy = stored({
      ...member.toItem(memberRecord),
      lastReadSeq: 4,
      lastReadAt: at,
      lastReadMessageId: 'm4',
      sentSeq: 9,
      sent: { '~c-1': 8, old: at },
      [sendWindowName(1_700_000_000)]: 3,
      readSource: 'send',
    });
    const item = seat.fromMemberItem(legacy);
    expect(item).toEqual({
      PK: 'SEAT#bo',
      SK: 'ROOM#r1',
      et: 'seat',
      roomId: 'r1',
      userId: 'bo',
      role: 'member',
      joinedAt: at,
      lastReadSeq: 4,
      lastReadAt: at,
      lastReadMessageId: 'm4',
      sentSeq: 9,
      sent: { '~c-1': 8, old: at },
      rate1700000000: 3,
    });
    expect(seat.fromItem(stored(item))).toMatchObject({ lastReadSeq: 9, sent: new Map<string, number | string>([['c-1', 8], ['old', at]]), sendWindows: new Map([[1_700_000_000, 3]]) });
    expect(seat.fromItem(stored(seat.fromMemberItem(stored(member.toItem(memberRecord)))))).toMatchObject({ lastReadSeq: 0, sent: new Map(), role: 'member' });
  });

  it('writes a message under its zero-padded seq, its metadata as JSON text', () => {
    const item = message.toItem(messageRecord);
    expect(item).toMatchObject({ PK: 'ROOM#r1', SK: 'MSG#000000000042', et: 'message', content: 'hello' });
    expect(typeof item.metadata).toBe('string');
  });

  it('writes a reaction, a change, a typing indicator, a connection and an upload with their keys and TTLs', () => {
    expect(reaction.toItem(reactionRecord)).toEqual({ PK: 'ROOM#r1', SK: 'RX#000000000042##️⃣#bo', et: 'reaction', ...reactionRecord });
    expect(change.toItem(changeRecord, 60)).toEqual({ PK: 'ROOM#r1', SK: `CHG#${at}#000000000042#edited`, et: 'change', ttl: epoch + 60, ...changeRecord });
    expect(typing.toItem(typingRecord)).toEqual({ PK: 'ROOM#r1', SK: 'TYPING#bo', et: 'typing', ttl: epoch + 1, ...typingRecord });
    expect(connection.toItem(connectionRecord, 100)).toEqual({ PK: 'CONN#L0SM9cOFvHcCIhw=', SK: 'CONN', et: 'connection', ttl: epoch + 100, ...connectionRecord });
    expect(attachment.toItem(attachmentRecord, at)).toEqual({ PK: 'ROOM#r1', SK: 'ATT#a1', et: 'attachment', ttl: epoch, ...attachmentRecord });
    expect(presence.key('bo')).toEqual({ PK: 'USER#bo', SK: 'PRESENCE' });
    expect(rate.key('bo', 'send', 1000)).toEqual({ PK: 'USER#bo', SK: 'RATE#send#1000' });
  });
});

describe('entities: the records items are read as', () => {
  it('reads back what it wrote, through real marshalling, without keys or bookkeeping attributes', () => {
    expect(room.fromItem(stored({ ...room.toItem(roomRecord), roomEvent: 'updated', updatedAt: at, GSI1PK: 'PUBLIC#ROOMS' }))).toEqual(roomRecord);
    expect(member.fromItem(stored({ ...member.toItem(memberRecord), lastReadSeq: 2, readSource: 'receipt' }))).toEqual(memberRecord);
    expect(seat.fromItem(stored({ ...seat.toItem(memberRecord), readSource: 'receipt' }))).toEqual({ roomId: 'r1', userId: 'bo', role: 'member', joinedAt: at, lastReadSeq: 0, sent: new Map() });
    expect(reaction.fromItem(stored(reaction.toItem(reactionRecord)))).toEqual(reactionRecord);
    expect(change.fromItem(stored(change.toItem(changeRecord, 60)))).toEqual(changeRecord);
    expect(typing.fromItem(stored(typing.toItem(typingRecord)))).toEqual(typingRecord);
    expect(connection.fromItem(stored(connection.toItem(connectionRecord, 100)))).toEqual(connectionRecord);
    expect(attachment.fromItem(stored({ ...attachment.toItem(attachmentRecord, at), thumbnail: true, attachedAt: at }))).toEqual(attachmentRecord);
  });

  it("reads an image's declared size back, and its measured size only with the thumbnail's mark", () => {
    const declared = { ...attachmentRecord, width: 640, height: 480 };
    expect(attachment.fromItem(stored(attachment.toItem(declared, at)))).toEqual(declared);
    const key = attachment.key('r1', 'a1');
    expect(attachment.thumbnailOf(stored({ ...key, et: 'attachment', id: 'a1', thumbnail: true, width: 480, height: 640 }))).toEqual({ id: 'a1', made: true, width: 480, height: 640 });
    // A declared size alone is no measurement; a thumbnail recorded before sizes were has none.
    expect(attachment.thumbnailOf(stored({ ...key, et: 'attachment', id: 'a1', width: 640, height: 480 }))).toEqual({ id: 'a1', made: false });
    expect(attachment.thumbnailOf(stored({ ...key, et: 'attachment', id: 'a1', thumbnail: true }))).toEqual({ id: 'a1', made: true });
  });

  it('keeps any metadata a client sent, prototype-named keys included', () => {
    const back = message.fromItem(stored(message.toItem(messageRecord)));
    expect(back).toEqual(messageRecord);
    expect(Object.hasOwn(back.metadata!, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('reads a seat\'s claims into a Map, prefixed names and names written before the prefix alike', () => {
    const item = stored({ ...seat.toItem(memberRecord), sent: { '~__proto__': 12, '~c-2': 3, 'c-old': at } });
    expect(seat.fromItem(item).sent).toEqual(new Map<string, number | string>([['__proto__', 12], ['c-2', 3], ['c-old', at]]));
  });

  it('reads the read mark as the further of receipts and own sends, and the send rate windows', () => {
    const item = stored({ ...seat.toItem(memberRecord), lastReadSeq: 4, sentSeq: 9, [sendWindowName(1_700_000_000)]: 3, ratelimit: 'not a window' });
    expect(seat.fromItem(item)).toMatchObject({ lastReadSeq: 9, sendWindows: new Map([[1_700_000_000, 3]]) });
    expect(seat.fromItem(stored({ ...seat.toItem(memberRecord), lastReadSeq: 4, sentSeq: 2 })).lastReadSeq).toBe(4);
  });

  it('reads what others see of a presence item, and where to post', () => {
    const p = presence.fromItem(stored({ ...presence.key('bo'), et: 'presence', userId: 'bo', conns: new Set(['c1', 'c2 r1']), chosen: 'away', status: 'away', onlineUntil: '2026-01-02T05:00:00.000Z' }));
    expect(presence.seen(p, at)).toEqual({ userId: 'bo', status: 'away' });
    expect(presence.seen(p, '2026-01-02T06:00:00.000Z')).toEqual({ userId: 'bo', status: 'offline' });
    expect(presence.shown(p)).toEqual({ userId: 'bo', status: 'away' });
    expect(presence.connections(p, at)).toEqual([
      { userId: 'bo', connectionId: 'c1' },
      { userId: 'bo', connectionId: 'c2', scopeRoomId: 'r1' },
    ]);
    expect(presence.connections(p, '2026-01-02T06:00:00.000Z')).toEqual([]);
  });

  it('refuses an item of another shape instead of passing it on', () => {
    expect(() => room.fromItem({ roomId: 'r1' })).toThrow(/Malformed room item/);
    expect(() => member.fromItem({ ...member.toItem(memberRecord), role: 'owner' })).toThrow(/Malformed member item \(role/);
    expect(() => seat.fromItem({ ...seat.toItem(memberRecord), lastReadSeq: '3' })).toThrow(/Malformed seat item \(lastReadSeq/);
    expect(() => message.fromItem({ ...message.toItem(messageRecord), seq: '42' })).toThrow(/Malformed message item \(seq/);
    expect(() => reaction.fromItem({})).toThrow(/Malformed reaction item/);
    expect(() => connection.fromItem({ connectionId: 'c' })).toThrow(/Malformed connection item/);
    expect(() => attachment.fromItem({ ...attachment.toItem(attachmentRecord, at), status: 'lost' })).toThrow(/Malformed attachment item/);
    for (const metadata of [['a'], 7, null]) {
      expect(() => message.fromItem({ ...message.toItem(messageRecord), metadata })).toThrow(/Malformed message item \(metadata/);
    }
    const presenceItem = { ...presence.key('bo'), et: 'presence', userId: 'bo' };
    for (const conns of [['c1'], new Set([1]), 'c1']) {
      expect(() => presence.fromItem(stored({ ...presenceItem, conns }))).toThrow(/Malformed presence item \(conns/);
    }
    expect(presence.fromItem(stored(presenceItem)).conns).toBeUndefined();
  });
});
