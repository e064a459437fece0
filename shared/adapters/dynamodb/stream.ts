import type { DynamoDBRecord } from 'aws-lambda';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { Change } from '../../domain/fanout.ts';
import type { ConnectionRecord, MessageRecord } from '../../ports.ts';
import { ENTITY, TABLE } from './table.ts';
import { recordOf } from './store.ts';

type Image = Record<string, AttributeValue>;

/** The change a stream record stands for, or `undefined` for records that produce no event. */
export function changeFromRecord(record: DynamoDBRecord): Change | undefined {
  const newImage = record.dynamodb?.NewImage ? unmarshall(record.dynamodb.NewImage as Image) : undefined;
  const entity = newImage?.[TABLE.entityAttribute];
  if (record.eventName === 'INSERT' && newImage) {
    if (entity === ENTITY.message) return { kind: 'message_created', message: recordOf<MessageRecord>(newImage) };
    if (entity === ENTITY.connection) return { kind: 'connection_opened', connection: recordOf<ConnectionRecord>(newImage) };
  }
  return undefined;
}
