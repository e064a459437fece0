/**
 * The single place that defines the table: attribute names, indexes, TTL, and the key of every
 * entity. The CDK stack, the local runtime's table creation and the adapters all import it.
 *
 * Entities (PK / SK):
 *   room        ROOM#<roomId>   / ROOM
 *   member      ROOM#<roomId>   / MEMBER#<userId>     GSI1: USER#<userId> / ROOM#<roomId>
 *   message     ROOM#<roomId>   / MSG#<seq, 12 digits>
 *   reaction    ROOM#<roomId>   / RX#<seq>#<emoji>#<userId>
 *   change      ROOM#<roomId>   / CHG#<ISO time>#<seq>#<kind>   (catch-up log of edits, deletes, reactions; expires)
 *   typing      ROOM#<roomId>   / TYPING#<userId>                (expires)
 *   connection  CONN#<connId>   / CONN   (a user's open connections are listed on their presence item)
 *   attachment  ROOM#<roomId>   / ATT#<attachmentId>              (pending uploads expire)
 *
 * GSI1 projects only attributes that rarely change, so the writes that happen on every message
 * (read marks, recent clientMessageIds on the member item) cost no index write.
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
  message: 'message',
  reaction: 'reaction',
  change: 'change',
  typing: 'typing',
  connection: 'connection',
  attachment: 'attachment',
  presence: 'presence',
  rate: 'rate',
} as const;
export type EntityType = (typeof ENTITY)[keyof typeof ENTITY];

/** Entities whose inserts and removals produce events. */
export const STREAMED_ENTITIES: readonly EntityType[] = [ENTITY.message, ENTITY.reaction, ENTITY.connection, ENTITY.member];

/** Where a member's read mark moved: a `read` (announced to the room) or their own send (not announced). */
export const READ_SOURCE = { receipt: 'receipt', send: 'send' } as const;

/**
 * Marks saying why the room or presence item changed, so the stream filter wakes the fan-out for
 * room updates and presence changes, never for the seq counter or connection bookkeeping (whose
 * writes remove the mark).
 */
export const ROOM_EVENT = { attribute: 'roomEvent', updated: 'updated', archived: 'archived' } as const;
export const PRESENCE_EVENT = { attribute: 'presenceEvent', changed: 'changed' } as const;

const SEQ_DIGITS = 12;

export const padSeq = (seq: number): string => String(seq).padStart(SEQ_DIGITS, '0');

export type Key = {
  PK: string;
  SK: string;
};

export const keys = {
  room: (roomId: string): Key => ({ PK: `ROOM#${roomId}`, SK: 'ROOM' }),
  member: (roomId: string, userId: string): Key => ({ PK: `ROOM#${roomId}`, SK: `MEMBER#${userId}` }),
  memberPrefix: (roomId: string) => ({ PK: `ROOM#${roomId}`, SKPrefix: 'MEMBER#' }),
  memberGsi1: (roomId: string, userId: string) => ({ GSI1PK: `USER#${userId}`, GSI1SK: `ROOM#${roomId}` }),
  userRoomsGsi1: (userId: string) => ({ GSI1PK: `USER#${userId}`, GSI1SKPrefix: 'ROOM#' }),
  message: (roomId: string, seq: number): Key => ({ PK: `ROOM#${roomId}`, SK: `MSG#${padSeq(seq)}` }),
  messagePrefix: (roomId: string) => ({ PK: `ROOM#${roomId}`, SKPrefix: 'MSG#' }),
  /** Emoji may contain `#` (keycaps): never parse reaction keys, read the item's attributes. */
  reaction: (roomId: string, seq: number, emoji: string, userId: string): Key => ({
    PK: `ROOM#${roomId}`,
    SK: `RX#${padSeq(seq)}#${emoji}#${userId}`,
  }),
  reactionsOfEmoji: (roomId: string, seq: number, emoji: string) => ({ PK: `ROOM#${roomId}`, SKPrefix: `RX#${padSeq(seq)}#${emoji}#` }),
  reactionsOfMessage: (roomId: string, seq: number) => ({ PK: `ROOM#${roomId}`, SKPrefix: `RX#${padSeq(seq)}#` }),
  /** Every reaction of the messages `fromSeq`..`toSeq`, for one range query. */
  reactionRange: (roomId: string, fromSeq: number, toSeq: number) => ({
    PK: `ROOM#${roomId}`,
    from: `RX#${padSeq(fromSeq)}#`,
    to: `RX#${padSeq(toSeq)}#\u{10FFFF}`,
  }),
  change: (roomId: string, at: string, seq: number, kind: string): Key => ({ PK: `ROOM#${roomId}`, SK: `CHG#${at}#${padSeq(seq)}#${kind}` }),
  changesSince: (roomId: string, at: string) => ({ PK: `ROOM#${roomId}`, from: `CHG#${at}`, to: 'CHG#\uffff' }),
  typing: (roomId: string, userId: string): Key => ({ PK: `ROOM#${roomId}`, SK: `TYPING#${userId}` }),
  typingPrefix: (roomId: string) => ({ PK: `ROOM#${roomId}`, SKPrefix: 'TYPING#' }),
  connection: (connectionId: string): Key => ({ PK: `CONN#${connectionId}`, SK: 'CONN' }),
  // ---- rooms and people ----
  /** A user's presence: chosen status, open connection ids, lastSeenAt. */
  presence: (userId: string): Key => ({ PK: `USER#${userId}`, SK: 'PRESENCE' }),
  /** A fixed-window rate counter (expires after its window). */
  rate: (userId: string, kind: string, windowStart: number): Key => ({ PK: `USER#${userId}`, SK: `RATE#${kind}#${windowStart}` }),
  /** Public rooms are listed through GSI1 under one partition (set on the room item), newest first. */
  publicRoomGsi1: (createdAt: string, roomId: string) => ({ GSI1PK: 'PUBLIC#ROOMS', GSI1SK: `${createdAt}#${roomId}` }),
  publicRoomsGsi1: () => ({ GSI1PK: 'PUBLIC#ROOMS' }),
  /** An upload slot of the room (pending: expires; attached: kept with its message). */
  attachment: (roomId: string, attachmentId: string): Key => ({ PK: `ROOM#${roomId}`, SK: `ATT#${attachmentId}` }),
};

/**
 * Filter of the attachment clean-up consumer: a removed attachment item (TTL expiry of an unclaimed
 * upload, or its message deleted) means its object goes too.
 */
export const attachmentCleanupFilterPatterns: readonly Record<string, unknown>[] = [
  { eventName: ['REMOVE'], dynamodb: { OldImage: { [TABLE.entityAttribute]: { S: [ENTITY.attachment] } } } },
];

/**
 * How an open connection is listed on its user's presence item (`conns`, a string set): its id,
 * and the room it is scoped to, if any. Ids are base64, so a space cannot occur in them.
 */
export const connectionEntry = (connectionId: string, scopeRoomId?: string): string =>
  scopeRoomId === undefined ? connectionId : `${connectionId} ${scopeRoomId}`;
export function parseConnectionEntry(entry: string): { connectionId: string; scopeRoomId?: string } {
  const [connectionId = '', scopeRoomId] = entry.split(' ');
  return scopeRoomId === undefined ? { connectionId } : { connectionId, scopeRoomId };
}

/** Inverse of `keys.message`: the seq in a message sort key. */
export function seqFromMessageSk(sk: string): number {
  if (!sk.startsWith('MSG#')) throw new Error(`Not a message sort key: ${sk}`);
  return Number(sk.slice(4));
}

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

/**
 * Lambda event filter patterns (EventBridge pattern syntax) for the fan-out function. CDK passes
 * them to the event source mapping; the local stream poller applies the very same patterns.
 */
export const streamFilterPatterns: readonly Record<string, unknown>[] = [
  // New and changed messages (edits, deletes); new and removed reactions, members and connections.
  { eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { [TABLE.entityAttribute]: { S: [ENTITY.message] } } } },
  { eventName: ['INSERT'], dynamodb: { NewImage: { [TABLE.entityAttribute]: { S: [...STREAMED_ENTITIES] } } } },
  { eventName: ['REMOVE'], dynamodb: { OldImage: { [TABLE.entityAttribute]: { S: [...STREAMED_ENTITIES] } } } },
  // Read receipts; a read mark moved by the member's own send wakes nothing.
  { eventName: ['MODIFY'], dynamodb: { NewImage: { [TABLE.entityAttribute]: { S: [ENTITY.member] }, readSource: { S: [READ_SOURCE.receipt] } } } },
  // Room updates and archiving (never the seq counter); presence changes (never connection bookkeeping).
  { eventName: ['MODIFY'], dynamodb: { NewImage: { [TABLE.entityAttribute]: { S: [ENTITY.room] }, [ROOM_EVENT.attribute]: { S: [ROOM_EVENT.updated, ROOM_EVENT.archived] } } } },
  { eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { [TABLE.entityAttribute]: { S: [ENTITY.presence] }, [PRESENCE_EVENT.attribute]: { S: [PRESENCE_EVENT.changed] } } } },
];
