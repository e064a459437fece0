import type { DynamoDBRecord } from 'aws-lambda';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { EventChange } from '#shared/domain/events.ts';
import { changeFromRecord } from './stream.ts';
import { ENTITY, TABLE } from './table.ts';
import { ROOM_EVENT } from './stream-filters.ts';
import { room } from './entities/room.ts';

const et = TABLE.entityAttribute;

/**
 * Filter of the outbound-events consumer: messages, reactions, members and rooms — the changes
 * the host platform hears of. Receipts, connections, presence and bookkeeping never wake it.
 */
export const eventsFilterPatterns: readonly Record<string, unknown>[] = [
  { eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { [et]: { S: [ENTITY.message] } } } },
  { eventName: ['INSERT'], dynamodb: { NewImage: { [et]: { S: [ENTITY.reaction, ENTITY.member, ENTITY.room] } } } },
  { eventName: ['REMOVE'], dynamodb: { OldImage: { [et]: { S: [ENTITY.reaction, ENTITY.member] } } } },
  { eventName: ['MODIFY'], dynamodb: { NewImage: { [et]: { S: [ENTITY.room] }, [ROOM_EVENT.attribute]: { S: [ROOM_EVENT.updated, ROOM_EVENT.archived] } } } },
];

/** The change a stream record stands for, as the events consumer sees it (rooms created included). */
export function eventChangeFromRecord(record: DynamoDBRecord): EventChange | undefined {
  const after = record.dynamodb?.NewImage;
  if (record.eventName === 'INSERT' && after?.[et]?.S === ENTITY.room) {
    return { kind: 'room_created', room: room.fromItem(unmarshall(after as Record<string, AttributeValue>)) };
  }
  return changeFromRecord(record);
}

/** What identifies a stream record across retries (Lambda hands the same record again). */
export const recordId = (record: DynamoDBRecord): string => record.eventID ?? record.dynamodb?.SequenceNumber ?? '';
