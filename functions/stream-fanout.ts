import type { DynamoDBStreamEvent } from 'aws-lambda';
import { changeFromRecord } from '#shared/adapters/dynamodb/stream.ts';
import { fanOut } from '#shared/domain/fanout.ts';
import { fanOutWirings, getDeps } from './lib/deps.ts';
import { processByPartitionKey } from './lib/stream-batch.ts';

/**
 * DynamoDB Streams → connections. Records of one partition key (a room, a user's presence, a
 * connection) are handled in stream order, different keys at once; a failed record is reported
 * so the batch is retried from it (ReportBatchItemFailures).
 */
export const handler = (event: DynamoDBStreamEvent) =>
  processByPartitionKey(event, async (record) => {
    const change = changeFromRecord(record);
    if (change) await fanOut(getDeps(...fanOutWirings), change);
  });
