/**
 * The table's physical schema: key attribute names, the one index, the TTL attribute, the entity
 * type attribute and the stream view. The CDK stack, the local runtime's table creation and the
 * adapters all import it; the keys items are written under are in entities/keys.ts, what wakes the
 * stream consumers in stream-filters.ts.
 *
 * GSI1 projects only attributes that rarely change; the writes that happen on every message (read
 * marks, recent clientMessageIds) go to seats, which have no index key.
 */
export const TABLE = {
  defaultName: 'parley',
  partitionKey: 'PK',
  sortKey: 'SK',
  ttlAttribute: 'ttl',
  /** Entity type, kept apart from the physical keys; the stream filter matches on it. */
  entityAttribute: 'et',
  gsi1: { name: 'GSI1', partitionKey: 'GSI1PK', sortKey: 'GSI1SK' },
} as const;

export const ENTITY = {
  room: 'room',
  member: 'member',
  seat: 'seat',
  message: 'message',
  reaction: 'reaction',
  change: 'change',
  typing: 'typing',
  connection: 'connection',
  attachment: 'attachment',
  presence: 'presence',
  /** An open connection listed in one room of its user (the fan-out's recipients); a marker of since when the lists are kept. */
  live: 'live',
  marker: 'marker',
  rate: 'rate',
  /** A user's default notification level; their level, mute and notification state for one room; a push subscription. */
  notifyPref: 'notify-pref',
  notifyRoom: 'notify-room',
  pushSubscription: 'push-sub',
} as const;
export type EntityType = (typeof ENTITY)[keyof typeof ENTITY];

/** Attribute definitions for CreateTable (local) and the CDK table: both come from here. */
export const tableSchema = {
  attributeDefinitions: [
    { AttributeName: TABLE.partitionKey, AttributeType: 'S' },
    { AttributeName: TABLE.sortKey, AttributeType: 'S' },
    { AttributeName: TABLE.gsi1.partitionKey, AttributeType: 'S' },
    { AttributeName: TABLE.gsi1.sortKey, AttributeType: 'S' },
  ],
  keySchema: [
    { AttributeName: TABLE.partitionKey, KeyType: 'HASH' },
    { AttributeName: TABLE.sortKey, KeyType: 'RANGE' },
  ],
  globalSecondaryIndexes: [
    {
      IndexName: TABLE.gsi1.name,
      KeySchema: [
        { AttributeName: TABLE.gsi1.partitionKey, KeyType: 'HASH' },
        { AttributeName: TABLE.gsi1.sortKey, KeyType: 'RANGE' },
      ],
      Projection: {
        ProjectionType: 'INCLUDE',
        NonKeyAttributes: ['et', 'roomId', 'userId', 'role', 'joinedAt', 'displayName'],
      },
    },
  ],
  streamViewType: 'NEW_AND_OLD_IMAGES',
} as const;
