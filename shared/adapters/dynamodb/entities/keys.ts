/**
 * Every key the table's items are written under, in one place so that the ranges each query
 * reads can be checked against each other (a reaction's sort key never falls in the message
 * range, and so on). Entities build their keys with these; queries read ranges with them.
 *
 *   room        ROOM#<roomId>   / ROOM                             GSI1 when public: PUBLIC#ROOMS / <createdAt>#<roomId>
 *   member      ROOM#<roomId>   / MEMBER#<userId>                  GSI1: USER#<userId> / ROOM#<roomId>
 *   message     ROOM#<roomId>   / MSG#<seq, 12 digits>
 *   reaction    ROOM#<roomId>   / RX#<seq>#<emoji>#<userId>
 *   change      ROOM#<roomId>   / CHG#<ISO time>#<seq>#<kind>      (catch-up log; expires)
 *   typing      ROOM#<roomId>   / TYPING#<userId>                  (expires)
 *   attachment  ROOM#<roomId>   / ATT#<attachmentId>               (pending uploads expire)
 *   connection  CONN#<connId>   / CONN                             (listed on the user's presence item)
 *   presence    USER#<userId>   / PRESENCE
 *   rate        USER#<userId>   / RATE#<kind>#<window start>       (expires)
 *   seat        SEAT#<userId>   / ROOM#<roomId>                    the member's own mutable state: read marks, send window, claims
 *   live        LIVE#<roomId>   / CONN#<connId>                    an open connection of a member of the room (expires with it)
 *   marker      META#<name>     / META                             since when the rooms' live lists are complete
 *
 * A room partition sorts ATT# < CHG# < MEMBER# < MSG# < ROOM < RX# < TYPING#, and nothing may
 * ever sort between the messages and the room item: reading `SK BETWEEN 'MSG#' AND 'ROOM'`
 * backwards gives the room and its newest messages in one request (room-store.ts,
 * `getRoomWithLatest`), which the room list, the room read, receipts, the send and the newest
 * page of history rely on. A new prefix goes below `MSG#` or above `ROOM`
 * (test/unit/keys.test.ts checks every builder here).
 *
 * Seats have a partition prefix of their own (not `USER#`): a grant narrowed by leading keys to
 * `SEAT#*` reaches seats and nothing else of a user (presence, rate counters, preferences). So
 * do rooms' live lists (not `ROOM#`): the fan-out that writes them may write nothing of a room.
 */
import type { Key } from './entity.ts';

const SEQ_DIGITS = 12;

export const padSeq = (seq: number): string => String(seq).padStart(SEQ_DIGITS, '0');

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
  /** A user's presence: chosen status, open connection ids, lastSeenAt. */
  presence: (userId: string): Key => ({ PK: `USER#${userId}`, SK: 'PRESENCE' }),
  /** A fixed-window rate counter (expires after its window). */
  rate: (userId: string, kind: string, windowStart: number): Key => ({ PK: `USER#${userId}`, SK: `RATE#${kind}#${windowStart}` }),
  /**
   * A member's seat: the per-user half of a membership (role, read marks, the send's rate window
   * and claims), written with the member item and removed with it. All of a user's seats are one
   * Query (`seatsOf`): the room list reads every mark at once.
   */
  seat: (userId: string, roomId: string): Key => ({ PK: `SEAT#${userId}`, SK: `ROOM#${roomId}` }),
  seatsOf: (userId: string) => ({ PK: `SEAT#${userId}`, SKPrefix: 'ROOM#' }),
  /** Public rooms are listed through GSI1 under one partition (set on the room item), newest first. */
  publicRoomGsi1: (createdAt: string, roomId: string) => ({ GSI1PK: 'PUBLIC#ROOMS', GSI1SK: `${createdAt}#${roomId}` }),
  publicRoomsGsi1: () => ({ GSI1PK: 'PUBLIC#ROOMS' }),
  /**
   * An open connection of one of the room's members, listed in the room's live list (a partition
   * of its own) so that a fan-out finds the room's recipients in one Query (live.ts); it expires
   * with the connection.
   */
  live: (roomId: string, connectionId: string): Key => ({ PK: `LIVE#${roomId}`, SK: `CONN#${connectionId}` }),
  livePrefix: (roomId: string) => ({ PK: `LIVE#${roomId}`, SKPrefix: 'CONN#' }),
  /** A table-wide marker (one item per name). */
  marker: (name: string): Key => ({ PK: `META#${name}`, SK: 'META' }),
  /** An upload slot of the room (pending: expires; attached: kept with its message). */
  attachment: (roomId: string, attachmentId: string): Key => ({ PK: `ROOM#${roomId}`, SK: `ATT#${attachmentId}` }),
};

/** Inverse of `keys.message`: the seq in a message sort key. */
export function seqFromMessageSk(sk: string): number {
  if (!sk.startsWith('MSG#')) throw new Error(`Not a message sort key: ${sk}`);
  return Number(sk.slice(4));
}

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
