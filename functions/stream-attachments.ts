import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { removedAttachment } from '#shared/adapters/dynamodb/stream.ts';
import { deleteAttachmentObjects } from '#shared/domain/attachments.ts';
import { getDeps, withAttachments } from './lib/deps.ts';

const processor = new BatchProcessor(EventType.DynamoDBStreams);

/**
 * DynamoDB Streams → attachment clean-up: a removed attachment record (an unclaimed upload whose
 * TTL expired, or one whose message was deleted) takes its objects with it. Failed records are
 * retried (ReportBatchItemFailures); deleting twice is harmless.
 */
export const handler = (event: DynamoDBStreamEvent, context: Context) =>
  processPartialResponse(
    event,
    async (record: DynamoDBRecord) => {
      const removed = removedAttachment(record);
      if (removed) await deleteAttachmentObjects(getDeps(withAttachments), removed);
    },
    processor,
    { context },
  );
