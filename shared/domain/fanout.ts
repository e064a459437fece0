import type { ConnectionRecord, ConnectionTarget, Deps, MemberRecord, MessageRecord, PresenceRecord, ReactionRecord, RoomRecord } from '#shared/ports.ts';
import { announceJoin, announceLeave, announceRoom } from './room-events.ts';
import { announcePresence } from './presence.ts';
import type { ServerFrame } from '#shared/schemas/frames.ts';
import { messageView } from './views.ts';
import { connectionExpired, forgetGoneConnection } from './connections.ts';
import { attachmentUrls } from './attachments.ts';

/** A stored change that produces events, decoded from a stream record by the DynamoDB adapter. */
export type Change =
  | { kind: 'message_created' | 'message_edited'; message: MessageRecord }
  | { kind: 'message_deleted'; message: MessageRecord }
  | { kind: 'reaction_added' | 'reaction_removed'; reaction: ReactionRecord }
  | { kind: 'messages_read'; member: MemberRecord }
  | { kind: 'connection_opened' | 'connection_expired'; connection: ConnectionRecord }
  | { kind: 'member_joined' | 'member_left'; member: MemberRecord }
  | { kind: 'room_updated' | 'room_archived'; room: RoomRecord }
  | { kind: 'presence_changed'; presence: PresenceRecord };

export interface Delivery {
  sent: number;
  gone: number;
}

type FrameFor = (userId: string) => ServerFrame | Promise<ServerFrame>;

export async function fanOut(deps: Deps, change: Change): Promise<Delivery> {
  switch (change.kind) {
    case 'message_created': {
      // Recipients are members only (deliverToRoom): they get the download URLs, presigned once.
      const urls = await attachmentUrls(deps, [change.message]);
      // A mentioned user hears of it even on a connection scoped to another room.
      return deliverToRoom(deps, change.message.roomId, () => ({ type: 'message_new', message: messageView(change.message, [], undefined, urls) }), change.message.mentions);
    }
    case 'message_edited': {
      const m = change.message;
      const [reactions, urls] = await Promise.all([deps.messages.reactionsBetween(m.roomId, m.seq, m.seq), attachmentUrls(deps, [m])]);
      return deliverToRoom(deps, m.roomId, (userId) => ({ type: 'message_edited', message: messageView(m, reactions, userId, urls) }), m.mentions);
    }
    case 'message_deleted': {
      const { roomId, id, seq } = change.message;
      return deliverToRoom(deps, roomId, () => ({ type: 'message_deleted', roomId, messageId: id, seq }));
    }
    case 'reaction_added':
    case 'reaction_removed': {
      const { roomId, messageId, seq, emoji, userId } = change.reaction;
      const count = await deps.messages.countReactions(roomId, seq, emoji);
      return deliverToRoom(deps, roomId, () => ({ type: change.kind, roomId, messageId, emoji, userId, count }));
    }
    case 'messages_read': {
      const { roomId, userId, lastReadSeq, lastReadMessageId, lastReadAt } = change.member;
      if (!lastReadMessageId || !lastReadAt) return { sent: 0, gone: 0 };
      return deliverToRoom(deps, roomId, () => ({ type: 'messages_read', roomId, userId, messageId: lastReadMessageId, seq: lastReadSeq, readAt: lastReadAt }));
    }
    case 'connection_expired':
      await connectionExpired(deps, change.connection);
      return { sent: 0, gone: 0 };
    case 'connection_opened': {
      const { connectionId, userId } = change.connection;
      const frame: ServerFrame = { type: 'connection_established', connectionId, userId, serverTime: deps.clock.now().toISOString() };
      return deliver(deps, [change.connection], () => frame);
    }
    case 'member_joined':
      return announceJoin(deps, change.member);
    case 'member_left':
      return announceLeave(deps, change.member);
    case 'room_updated':
    case 'room_archived':
      return announceRoom(deps, change.room, change.kind);
    case 'presence_changed':
      return announcePresence(deps, change.presence);
  }
}

/**
 * Sends a frame to every connection of every member of the room: one query for the member ids,
 * one per member for their connections. Users outside the room are never read. A connection
 * scoped to another room is skipped unless its user is in `alsoScoped` (mentions).
 */
export async function deliverToRoom(
  deps: Deps,
  roomId: string,
  frameFor: FrameFor,
  alsoScoped: string[] = [],
  except?: { userId: string },
): Promise<Delivery> {
  const memberIds = (await deps.rooms.listMemberIds(roomId)).filter((id) => id !== except?.userId);
  const connections = await deps.connections.connectionsOf(memberIds);
  return deliver(
    deps,
    connections.filter((c) => c.scopeRoomId === undefined || c.scopeRoomId === roomId || alsoScoped.includes(c.userId)),
    frameFor,
  );
}

/**
 * One PostToConnection per connection. A connection API Gateway no longer knows (410) is
 * forgotten, item and presence entry. `frameFor` is called once per user.
 */
export async function deliver(
  deps: Deps,
  connections: ConnectionTarget[],
  frameFor: FrameFor,
  afterSend?: (c: ConnectionTarget, outcome: 'sent' | 'gone') => Promise<unknown>,
): Promise<Delivery> {
  const frames = new Map<string, Promise<ServerFrame>>();
  const results = await Promise.all(
    connections.map(async (c) => {
      let frame = frames.get(c.userId);
      if (!frame) frames.set(c.userId, (frame = Promise.resolve(frameFor(c.userId))));
      const outcome = await deps.broadcaster.send(c.connectionId, await frame);
      if (outcome === 'gone') await forgetGoneConnection(deps, c.connectionId);
      await afterSend?.(c, outcome);
      return outcome;
    }),
  );
  return { sent: results.filter((r) => r === 'sent').length, gone: results.filter((r) => r === 'gone').length };
}
