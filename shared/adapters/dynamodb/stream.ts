import type { DynamoDBRecord } from 'aws-lambda';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttachmentRecord, Change } from '#shared/model.ts';
import { attachment } from './entities/attachment.ts';
import { connection } from './entities/connection.ts';
import { entityOf, type Item } from './entities/entity.ts';
import { member } from './entities/member.ts';
import { message } from './entities/message.ts';
import { presence } from './entities/presence.ts';
import { reaction } from './entities/reaction.ts';
import { room } from './entities/room.ts';
import { seat } from './entities/seat.ts';
import { ENTITY } from './table.ts';
import { PRESENCE_EVENT, READ_SOURCE, ROOM_EVENT } from './stream-filters.ts';

/** A stream record's images, unmarshalled as the document client would read the item. */
function images(record: DynamoDBRecord): { after?: Item; before?: Item } {
  const image = (i: unknown) => (i ? unmarshall(i as Record<string, AttributeValue>) : undefined);
  const after = image(record.dynamodb?.NewImage);
  const before = image(record.dynamodb?.OldImage);
  return { ...(after && { after }), ...(before && { before }) };
}

/**
 * The change a stream record stands for, or `undefined` for records that produce no event.
 * Every image becomes a record through its entity's `fromItem`; a record without the image its
 * event needs (a stream view other than NEW_AND_OLD_IMAGES) produces nothing.
 */
export function changeFromRecord(record: DynamoDBRecord): Change | undefined {
  const { after, before } = images(record);
  const entity = entityOf(after ?? before ?? {});
  const event = record.eventName;
  if (event === 'INSERT' || event === 'MODIFY') {
    if (!after) return undefined;
    switch (entity) {
      case ENTITY.message: {
        const m = message.fromItem(after);
        if (event === 'INSERT') return { kind: 'message_created', message: m };
        if (m.deletedAt && !before?.deletedAt) return { kind: 'message_deleted', message: m };
        if (m.editedAt && m.editedAt !== before?.editedAt) return { kind: 'message_edited', message: m };
        return undefined;
      }
      case ENTITY.reaction:
        return event === 'INSERT' ? { kind: 'reaction_added', reaction: reaction.fromItem(after) } : undefined;
      case ENTITY.member: {
        if (event === 'INSERT') return { kind: 'member_joined', member: member.fromItem(after) };
        // A receipt on a member item written before seats (by a function deployed before them).
        member.fromItem(after);
        const read = seat.readMarkOf(after);
        const moved = read.lastReadSeq !== before?.lastReadSeq;
        return moved && after.readSource === READ_SOURCE.receipt ? { kind: 'messages_read', read } : undefined;
      }
      case ENTITY.seat: {
        if (event !== 'MODIFY' || after.readSource !== READ_SOURCE.receipt) return undefined;
        const { roomId, userId, lastReadSeq, lastReadAt, lastReadMessageId } = seat.fromItem(after);
        if (lastReadSeq === before?.lastReadSeq) return undefined;
        return { kind: 'messages_read', read: { roomId, userId, lastReadSeq, ...(lastReadAt && { lastReadAt }), ...(lastReadMessageId && { lastReadMessageId }) } };
      }
      case ENTITY.connection:
        return event === 'INSERT' ? { kind: 'connection_opened', connection: connection.fromItem(after) } : undefined;
      case ENTITY.room: {
        if (event !== 'MODIFY') return undefined;
        const mark = after[ROOM_EVENT.attribute];
        if (mark === ROOM_EVENT.archived && !before?.archivedAt) return { kind: 'room_archived', room: room.fromItem(after) };
        return mark === ROOM_EVENT.updated ? { kind: 'room_updated', room: room.fromItem(after) } : undefined;
      }
      case ENTITY.presence:
        if (after[PRESENCE_EVENT.attribute] !== PRESENCE_EVENT.changed) return undefined;
        return { kind: 'presence_changed', presence: presence.shown(presence.fromItem(after)) };
      default:
        return undefined;
    }
  }
  if (event === 'REMOVE' && before) {
    switch (entity) {
      case ENTITY.reaction:
        return { kind: 'reaction_removed', reaction: reaction.fromItem(before) };
      case ENTITY.member:
        return { kind: 'member_left', member: member.fromItem(before) };
      case ENTITY.connection:
        // Only DynamoDB's TTL removes a connection item on its own: a `$disconnect` that never came.
        // Any other removal (`$disconnect`, a 410) has seen to the presence item already.
        return { kind: record.userIdentity?.principalId === 'dynamodb.amazonaws.com' ? 'connection_expired' : 'connection_closed', connection: connection.fromItem(before) };
      default:
        return undefined;
    }
  }
  return undefined;
}

/** The attachment record a REMOVE stream record deleted (TTL expiry or message deletion), if it is one. */
export function removedAttachment(record: DynamoDBRecord): AttachmentRecord | undefined {
  if (record.eventName !== 'REMOVE') return undefined;
  const { before } = images(record);
  return before && entityOf(before) === ENTITY.attachment ? attachment.fromItem(before) : undefined;
}
