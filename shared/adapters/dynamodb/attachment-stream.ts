import type { DynamoDBRecord } from 'aws-lambda';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { AttachmentRecord } from '#shared/model.ts';
import { ENTITY, TABLE } from './table.ts';
import { recordOf } from './table-client.ts';

/** The attachment record a REMOVE stream record deleted (TTL expiry or message deletion), if it is one. */
export function removedAttachment(record: DynamoDBRecord): AttachmentRecord | undefined {
  if (record.eventName !== 'REMOVE' || !record.dynamodb?.OldImage) return undefined;
  const before = unmarshall(record.dynamodb.OldImage as Record<string, AttributeValue>);
  return before[TABLE.entityAttribute] === ENTITY.attachment ? recordOf<AttachmentRecord>(before) : undefined;
}
