import { ENTITY, TABLE, type EntityType } from './table.ts';

/**
 * What wakes the stream consumers: the entities and marks the fan-out's and the attachment
 * clean-up's event filters match (CDK sets them on the event source mappings; the local stream
 * poller applies the very same patterns).
 */

/** Entities whose inserts and removals produce events. */
export const STREAMED_ENTITIES: readonly EntityType[] = [ENTITY.message, ENTITY.reaction, ENTITY.connection, ENTITY.member];

/**
 * Where a seat's read mark moved: a `read` (announced to the room) or their own send (not
 * announced); a seat's other writes remove it.
 */
export const READ_SOURCE = { receipt: 'receipt', send: 'send' } as const;

/**
 * Marks saying why the room or presence item changed, so the stream filter wakes the fan-out for
 * room updates and presence changes, never for the seq counter or connection bookkeeping (whose
 * writes remove the mark).
 */
export const ROOM_EVENT = { attribute: 'roomEvent', updated: 'updated', archived: 'archived' } as const;
export const PRESENCE_EVENT = { attribute: 'presenceEvent', changed: 'changed' } as const;

/**
 * Filter of the attachment clean-up consumer: a removed attachment item (TTL expiry of an unclaimed
 * upload, or its message deleted) means its object goes too.
 */
export const attachmentCleanupFilterPatterns: readonly Record<string, unknown>[] = /* @__PURE__ */ (() => [
  { eventName: ['REMOVE'], dynamodb: { OldImage: { [TABLE.entityAttribute]: { S: [ENTITY.attachment] } } } },
])();

/**
 * Lambda event filter patterns (EventBridge pattern syntax) for the fan-out function. CDK passes
 * them to the event source mapping; the local stream poller applies the very same patterns.
 */
// Built in pure calls: a function's bundle, which imports this module for its marks only, leaves the patterns out.
export const streamFilterPatterns: readonly Record<string, unknown>[] = /* @__PURE__ */ (() => [
  // New and changed messages (edits, deletes); new and removed reactions, members and connections.
  { eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { [TABLE.entityAttribute]: { S: [ENTITY.message] } } } },
  { eventName: ['INSERT'], dynamodb: { NewImage: { [TABLE.entityAttribute]: { S: [...STREAMED_ENTITIES] } } } },
  { eventName: ['REMOVE'], dynamodb: { OldImage: { [TABLE.entityAttribute]: { S: [...STREAMED_ENTITIES] } } } },
  // Read receipts, on seats (and on member items written before seats, by functions deployed
  // before them); a read mark moved by the member's own send wakes nothing.
  { eventName: ['MODIFY'], dynamodb: { NewImage: { [TABLE.entityAttribute]: { S: [ENTITY.seat, ENTITY.member] }, readSource: { S: [READ_SOURCE.receipt] } } } },
  // Room updates and archiving (never the seq counter); presence changes (never connection bookkeeping).
  { eventName: ['MODIFY'], dynamodb: { NewImage: { [TABLE.entityAttribute]: { S: [ENTITY.room] }, [ROOM_EVENT.attribute]: { S: [ROOM_EVENT.updated, ROOM_EVENT.archived] } } } },
  { eventName: ['INSERT', 'MODIFY'], dynamodb: { NewImage: { [TABLE.entityAttribute]: { S: [ENTITY.presence] }, [PRESENCE_EVENT.attribute]: { S: [PRESENCE_EVENT.changed] } } } },
])();
