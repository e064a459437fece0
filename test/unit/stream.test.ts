import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { DynamoDBRecord } from 'aws-lambda';
import { changeFromRecord, removedAttachment } from '#shared/adapters/dynamodb/stream.ts';

/** A Lambda event captured from DynamoDB Local's stream (test/fixtures/stream/capture.ts). */
function event(name: string): DynamoDBRecord[] {
  const url = new URL(`../fixtures/stream/${name}.json`, import.meta.url);
  return (JSON.parse(readFileSync(url, 'utf8')) as { Records: DynamoDBRecord[] }).Records;
}

const changes = (name: string) => event(name).map(changeFromRecord).filter((c) => c !== undefined);

describe('stream records, as DynamoDB Local writes them', () => {
  it('a new room makes no event; its first member joins silently (the fan-out tells by createdAt)', () => {
    expect(changes('room-insert')).toEqual([expect.objectContaining({ kind: 'member_joined', member: expect.objectContaining({ userId: 'ann', role: 'admin' }) })]);
  });

  it('an added member is `member_joined`; the member count on the room is not an update', () => {
    expect(changes('member-insert')).toEqual([
      { kind: 'member_joined', member: { roomId: 'r1', userId: 'bo', displayName: 'Bo', role: 'member', joinedAt: '2026-01-02T03:04:01.000Z' } },
    ]);
  });

  it('taking a seq changes nothing anyone is told of', () => {
    expect(event('room-modify-seq').length).toBeGreaterThan(0);
    expect(changes('room-modify-seq')).toEqual([]);
  });

  it('a stored message is `message_created`, its metadata back as the object sent', () => {
    const [change] = changes('message-insert');
    expect(change).toMatchObject({ kind: 'message_created', message: { id: 'm1', seq: 1, content: 'hello @bo', mentions: ['bo'] } });
    const metadata = (change as { message: { metadata: Record<string, unknown> } }).message.metadata;
    expect(Object.hasOwn(metadata, '__proto__')).toBe(true);
    expect(metadata.order).toBe('o-1');
  });

  it('an edit is `message_edited`, a delete `message_deleted`', () => {
    expect(changes('message-modify-edited')).toEqual([expect.objectContaining({ kind: 'message_edited', message: expect.objectContaining({ content: 'hello again @bo', editedAt: '2026-01-02T03:04:05.000Z' }) })]);
    expect(changes('message-modify-deleted')).toEqual([expect.objectContaining({ kind: 'message_deleted', message: expect.objectContaining({ content: '', deletedAt: '2026-01-02T03:04:07.000Z' }) })]);
  });

  it('long text, stored compressed (base64 in the event), comes out as it was written, and edits between long and short do too', () => {
    const longText = Array.from({ length: 12 }, (_, i) => `Line ${i + 1} of the release notes: the payment screen shows the new price at once. `).join('');
    const [inserted] = event('message-insert-long');
    expect(typeof inserted!.dynamodb?.NewImage?.contentZ?.B).toBe('string');
    expect(inserted!.dynamodb?.NewImage?.content).toBeUndefined();
    expect(changes('message-insert-long')).toEqual([{ kind: 'message_created', message: expect.objectContaining({ id: 'm2', seq: 2, content: longText }) }]);
    // Compressed before, plain after: the event has the new text only.
    expect(event('message-modify-edited-short')[0]!.dynamodb?.OldImage?.contentZ).toBeDefined();
    expect(changes('message-modify-edited-short')).toEqual([
      { kind: 'message_edited', message: expect.objectContaining({ id: 'm2', content: 'short again', editedAt: '2026-01-02T03:04:13.000Z' }) },
    ]);
    expect(event('message-modify-edited-long')[0]!.dynamodb?.NewImage?.content).toBeUndefined();
    expect(changes('message-modify-edited-long')).toEqual([
      { kind: 'message_edited', message: expect.objectContaining({ id: 'm2', content: `${longText}Edited.`, editedAt: '2026-01-02T03:04:14.000Z' }) },
    ]);
  });

  it('reactions come and go', () => {
    const reaction = { roomId: 'r1', messageId: 'm1', seq: 1, emoji: '👍', userId: 'bo', createdAt: '2026-01-02T03:04:03.000Z' };
    expect(changes('reaction-insert')).toEqual([{ kind: 'reaction_added', reaction }]);
    expect(changes('reaction-remove')).toEqual([{ kind: 'reaction_removed', reaction }]);
  });

  it('a read receipt on a seat is `messages_read` of its room; the read mark a send moves is not, nor a change of role', () => {
    expect(changes('seat-modify-read')).toEqual([
      { kind: 'messages_read', read: { roomId: 'r1', userId: 'bo', lastReadSeq: 1, lastReadMessageId: 'm1', lastReadAt: '2026-01-02T03:04:06.000Z' } },
    ]);
    expect(event('seat-modify-read')[0]!.dynamodb?.Keys?.PK).toEqual({ S: 'SEAT#bo' });
    expect(event('seat-modify-sent').length).toBeGreaterThan(0);
    expect(changes('seat-modify-sent')).toEqual([]);
    // The member item and the seat both change: neither is an event.
    expect(event('seat-modify-role').length).toBe(2);
    expect(changes('seat-modify-role')).toEqual([]);
  });

  it('a receipt on a member item written before seats (by a function deployed before them) is still `messages_read`', () => {
    expect(changes('member-modify-read')).toEqual([
      { kind: 'messages_read', read: { roomId: 'r1', userId: 'bo', lastReadSeq: 1, lastReadMessageId: 'm1', lastReadAt: '2026-01-02T03:04:06.000Z' } },
    ]);
    expect(event('member-modify-sent').length).toBeGreaterThan(0);
    expect(changes('member-modify-sent')).toEqual([]);
  });

  it('room settings are `room_updated`, archiving `room_archived`', () => {
    expect(changes('room-modify-updated')).toEqual([expect.objectContaining({ kind: 'room_updated', room: expect.objectContaining({ name: 'Launch day' }) })]);
    expect(changes('room-modify-archived')).toEqual([expect.objectContaining({ kind: 'room_archived', room: expect.objectContaining({ archivedAt: '2026-01-02T03:04:11.000Z' }) })]);
  });

  it('a removed member is `member_left`', () => {
    expect(changes('member-remove')).toEqual([expect.objectContaining({ kind: 'member_left', member: expect.objectContaining({ userId: 'bo' }) })]);
  });

  it('presence changes when the first connection opens and the last one closes', () => {
    expect(changes('presence-opened')).toEqual([{ kind: 'presence_changed', presence: { userId: 'bo', status: 'online' } }]);
    expect(changes('presence-closed')).toEqual([{ kind: 'presence_changed', presence: { userId: 'bo', status: 'offline', lastSeenAt: '2026-01-02T03:04:09.000Z' } }]);
  });

  it('a new connection is `connection_opened`; one deleted by `$disconnect` is `connection_closed`, one expired by TTL is `connection_expired`', () => {
    const connection = { connectionId: 'L0SM9cOFvHcCIhw=', userId: 'bo', displayName: 'Bo', connectedAt: '2026-01-02T03:04:04.000Z' };
    expect(changes('connection-insert')).toEqual([{ kind: 'connection_opened', connection }]);
    expect(changes('connection-remove')).toEqual([{ kind: 'connection_closed', connection }]);
    expect(changes('connection-remove-ttl')).toEqual([
      expect.objectContaining({ kind: 'connection_opened' }),
      { kind: 'connection_expired', connection: { ...connection, connectionId: 'expired=', connectedAt: '2026-01-01T00:00:00.000Z' } },
    ]);
  });

  it('a removed upload is the attachment clean-up\'s, and nothing the fan-out sends', () => {
    const records = event('attachment-remove');
    expect(records.map(changeFromRecord).filter(Boolean)).toEqual([]);
    expect(records.map(removedAttachment).filter(Boolean)).toEqual([expect.objectContaining({ id: 'a1', key: 'files/r1/a1', status: 'pending' })]);
  });
});
