import type { DynamoDBRecord } from 'aws-lambda';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Change } from '../../domain/fanout.ts';
import type { ConnectionRecord, MemberRecord, MessageRecord, ReactionRecord } from '../../ports.ts';
import { ENTITY, READ_SOURCE, TABLE } from './table.ts';
import { recordOf } from './store.ts';

type Image = Record<string, AttributeValue>;
const image = (i: unknown) => (i ? unmarshall(i as Image) : undefined);

/** The change a stream record stands for, or `undefined` for records that produce no event. */
export function changeFromRecord(record: DynamoDBRecord): Change | undefined {
  const after = image(record.dynamodb?.NewImage);
  const before = image(record.dynamodb?.OldImage);
  const entity = (after ?? before)?.[TABLE.entityAttribute];
  switch (`${entity} ${record.eventName}`) {
    case `${ENTITY.message} INSERT`:
      return { kind: 'message_created', message: recordOf<MessageRecord>(after!) };
    case `${ENTITY.message} MODIFY`: {
      const message = recordOf<MessageRecord>(after!);
      if (message.deletedAt && !before?.deletedAt) return { kind: 'message_deleted', message };
      if (message.editedAt && message.editedAt !== before?.editedAt) return { kind: 'message_edited', message };
      return undefined;
    }
    case `${ENTITY.reaction} INSERT`:
      return { kind: 'reaction_added', reaction: recordOf<ReactionRecord>(after!) };
    case `${ENTITY.reaction} REMOVE`:
      return { kind: 'reaction_removed', reaction: recordOf<ReactionRecord>(before!) };
    case `${ENTITY.member} MODIFY`: {
      const member = recordOf<MemberRecord & { readSource?: string }>(after!);
      const moved = member.lastReadSeq !== before?.lastReadSeq;
      return moved && member.readSource === READ_SOURCE.receipt ? { kind: 'messages_read', member } : undefined;
    }
    case `${ENTITY.connection} INSERT`:
      return { kind: 'connection_opened', connection: recordOf<ConnectionRecord>(after!) };
    default:
      return undefined;
  }
}
