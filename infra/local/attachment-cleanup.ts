import { attachmentCleanupFilterPatterns } from '#shared/adapters/dynamodb/stream-filters.ts';
import { attachmentStreamFn } from '#infra/routes.ts';
import { startStreamConsumer, type ConsumerWiring, type StreamPoller } from './stream-poller.ts';

/**
 * The second consumer of the table's stream, as in AWS (a second event source mapping with its own
 * filter): REMOVE records of attachment items go to the clean-up handler, which deletes the
 * objects. TTL expiry of unclaimed uploads reaches it through the TTL sweeper's deletions, as AWS's
 * TTL deletions reach the Lambda. It needs no TTL log: it treats every removal the same.
 */
export function startAttachmentCleanup(wiring: ConsumerWiring): Promise<StreamPoller> {
  return startStreamConsumer(wiring, attachmentStreamFn, {
    filterPatterns: attachmentCleanupFilterPatterns,
    onFailure: ({ records, error }) =>
      console.error(`[attachments] ${records.length} clean-up record(s) dropped after retries (the SQS on-failure destination in AWS)`, error),
  });
}
