/**
 * How the fan-out function reads the table's stream: the event source mapping's settings, read by
 * the CDK stack and by the local stream poller alike.
 *
 * `parallelizationFactor`: batches of one shard in flight at once. Lambda keeps the records of one
 * partition key in order across them, and every item of a room (messages, members, reactions)
 * shares the room's partition key, so a room's events keep their order; so do a user's presence
 * changes and a connection's. 10 is the most Lambda allows.
 */
export const FANOUT_EVENT_SOURCE = {
  batchSize: 100,
  parallelizationFactor: 10,
  retryAttempts: 5,
} as const;
