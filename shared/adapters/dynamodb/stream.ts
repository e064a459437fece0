import type { DynamoDBRecord } from 'aws-lambda';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Change, ConnectionRecord, ReactionRecord, RoomRecord } from '#shared/model.ts';
import { ENTITY, PRESENCE_EVENT, READ_SOURCE, ROOM_EVENT, TABLE } from './table.ts';
import { shownPresence } from './people-store.ts';
import { recordOf } from './table-client.ts';
import { memberRecord, messageRecord } from './items.ts';

type Image = Record<string, AttributeValue>;
const image = (i: unknown) => (i ? unmarshall(i as Image) : undefined);

/** The change a stream record stands for, or `undefined` for records that produce no event. */
export function changeFromRecord(record: DynamoDBRecord): Change | undefined {
  const after = image(record.dynamodb?.NewImage);
  const before = image(record.dynamodb?.OldImage);
  const entity = (after ?? before)?.[TABLE.entityAttribute];
  switch (`${entity} ${record.eventName}`) {
    case `${ENTITY.message} INSERT`:
      return { kind: 'message_created', message: messageRecord(after!) };
    case `${ENTITY.message} MODIFY`: {
      const message = messageRecord(after!);
      if (message.deletedAt && !before?.deletedAt) return { kind: 'message_deleted', message };
      if (message.editedAt && message.editedAt !== before?.editedAt) return { kind: 'message_edited', message };
      return undefined;
    }
    case `${ENTITY.reaction} INSERT`:
      return { kind: 'reaction_added', reaction: recordOf<ReactionRecord>(after!) };
    case `${ENTITY.reaction} REMOVE`:
      return { kind: 'reaction_removed', reaction: recordOf<ReactionRecord>(before!) };
    case `${ENTITY.member} MODIFY`: {
      const member = memberRecord(after!);
      const moved = member.lastReadSeq !== before?.lastReadSeq;
      return moved && after!.readSource === READ_SOURCE.receipt ? { kind: 'messages_read', member } : undefined;
    }
    case `${ENTITY.connection} INSERT`:
      return { kind: 'connection_opened', connection: recordOf<ConnectionRecord>(after!) };
    case `${ENTITY.connection} REMOVE`:
      // Only DynamoDB's TTL removes a connection item on its own: a `$disconnect` that never came.
      return record.userIdentity?.principalId === 'dynamodb.amazonaws.com'
        ? { kind: 'connection_expired', connection: recordOf<ConnectionRecord>(before!) }
        : undefined;
    case `${ENTITY.member} INSERT`:
      return { kind: 'member_joined', member: memberRecord(after!) };
    case `${ENTITY.member} REMOVE`:
      return { kind: 'member_left', member: memberRecord(before!) };
    case `${ENTITY.room} MODIFY`: {
      const event = after![ROOM_EVENT.attribute];
      if (event === ROOM_EVENT.archived && !before?.archivedAt) return { kind: 'room_archived', room: recordOf<RoomRecord>(after!) };
      return event === ROOM_EVENT.updated ? { kind: 'room_updated', room: recordOf<RoomRecord>(after!) } : undefined;
    }
    case `${ENTITY.presence} INSERT`:
    case `${ENTITY.presence} MODIFY`:
      if (after![PRESENCE_EVENT.attribute] !== PRESENCE_EVENT.changed) return undefined;
      return { kind: 'presence_changed', presence: shownPresence(after!) };
    default:
      return undefined;
  }
}
