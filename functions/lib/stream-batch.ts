import type { DynamoDBBatchResponse, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { TABLE } from '#shared/adapters/dynamodb/table.ts';
import { logger } from '#shared/logger.ts';

/**
 * Handles a DynamoDB Streams batch with ReportBatchItemFailures: the records of one partition key
 * one after another in stream order (a room's items share one, so a room's events keep their
 * order), different keys at once. A failed record stops the rest of its key, which would otherwise
 * overtake it; Lambda retries the batch from the earliest failure reported, so records of other
 * keys after it may come again (delivery is at least once).
 */
export async function processByPartitionKey(event: DynamoDBStreamEvent, handle: (record: DynamoDBRecord) => Promise<void>): Promise<DynamoDBBatchResponse> {
  const byKey = new Map<string, DynamoDBRecord[]>();
  for (const record of event.Records) {
    const key = record.dynamodb?.Keys?.[TABLE.partitionKey]?.S ?? '';
    const records = byKey.get(key);
    if (records) records.push(record);
    else byKey.set(key, [record]);
  }
  const failed: string[] = [];
  await Promise.all(
    [...byKey.values()].map(async (records) => {
      for (const record of records) {
        try {
          await handle(record);
        } catch (error) {
          logger.error('Stream record failed', { sequenceNumber: record.dynamodb?.SequenceNumber, error });
          failed.push(record.dynamodb?.SequenceNumber ?? '');
          return;
        }
      }
    }),
  );
  return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
}
