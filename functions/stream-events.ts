import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { eventChangeFromRecord, recordId } from '#shared/adapters/dynamodb/event-stream.ts';
import { publishChange } from '#shared/domain/events.ts';
import { notifyMessage } from '#shared/domain/notifications.ts';
import { getNotifyDeps } from './lib/notify-deps.ts';

const processor = new BatchProcessor(EventType.DynamoDBStreams);

/**
 * DynamoDB Streams → outbound events and notifications, apart from the fan-out so a slow bus never
 * delays live delivery. Once a record fails, the rest of the batch fails unsent: the retry
 * starts from it, and no event overtakes an earlier one of its room.
 */
export const handler = (event: DynamoDBStreamEvent, context: Context) => {
  let failed = false;
  return processPartialResponse(
    event,
    async (record: DynamoDBRecord) => {
      if (failed) throw new Error('An earlier record of the batch failed; this one waits for its retry');
      try {
        const change = eventChangeFromRecord(record);
        if (!change) return;
        const deps = getNotifyDeps();
        await publishChange(deps, change, recordId(record));
        if (change.kind === 'message_created') await notifyMessage(deps, change.message);
      } catch (err) {
        failed = true;
        throw err;
      }
    },
    processor,
    { context, processInParallel: false, throwOnFullBatchFailure: false },
  );
};
