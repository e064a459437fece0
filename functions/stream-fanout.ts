import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { BatchProcessor, EventType, processPartialResponse } from '@aws-lambda-powertools/batch';
import { changeFromRecord } from '#shared/adapters/dynamodb/stream.ts';
import { fanOut } from '#shared/domain/fanout.ts';
import { getDeps } from './lib/deps.ts';

const processor = new BatchProcessor(EventType.DynamoDBStreams);

/**
 * DynamoDB Streams → connections. Records are handled one after another, in stream order; a
 * failed record is reported so the batch is retried from it (ReportBatchItemFailures).
 */
export const handler = (event: DynamoDBStreamEvent, context: Context) =>
  processPartialResponse(
    event,
    async (record: DynamoDBRecord) => {
      const change = changeFromRecord(record);
      if (change) await fanOut(getDeps(), change);
    },
    processor,
    { context, processInParallel: false },
  );
