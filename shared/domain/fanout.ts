import type { Change, ConnectionRecord } from '#shared/model.ts';
import type { Deps } from '#shared/ports/runtime.ts';
import { announceJoin, announceLeave, announceRoom } from './room-events.ts';
import { announcePresence } from './presence.ts';
import type { ServerFrame } from '#shared/schemas/frames.ts';
import { messageView } from './views.ts';
import { connectionExpired, forgetGoneConnection } from './connections.ts';
import { deliverToRoom, type Delivery } from './deliver.ts';
import { listConnection, unlistConnection } from './live.ts';
import { attachmentUrls } from './attachments.ts';

/** The events one stored change produces, sent to the connections that should hear of it. */
export async function fanOut(deps: Deps, change: Change): Promise<Delivery> {
  switch (change.kind) {
    case 'message_created': {
      // Recipients are members only (deliverToRoom): they get the download URLs, presigned once.
      const urls = await attachmentUrls(deps, [change.message]);
      // A mentioned user hears of it even on a connection scoped to another room. The member ids
      // read for the room's previous message serve while its members are the same.
      const { roomId, mentions, membersAt } = change.message;
      return deliverToRoom(deps, roomId, { type: 'message_new', message: messageView(change.message, [], undefined, urls) }, { alsoScoped: mentions, ...(membersAt !== undefined && { membersAt }) });
    }
    case 'message_edited': {
      const m = change.message;
      const [reactions, urls] = await Promise.all([deps.messages.reactionsBetween(m.roomId, m.seq, m.seq), attachmentUrls(deps, [m])]);
      return deliverToRoom(deps, m.roomId, (userId) => ({ type: 'message_edited', message: messageView(m, reactions, userId, urls) }), { alsoScoped: m.mentions });
    }
    case 'message_deleted': {
      const { roomId, id, seq } = change.message;
      return deliverToRoom(deps, roomId, { type: 'message_deleted', roomId, messageId: id, seq });
    }
    case 'reaction_added':
    case 'reaction_removed': {
      const { roomId, messageId, seq, emoji, userId } = change.reaction;
      const count = await deps.messages.countReactions(roomId, seq, emoji);
      return deliverToRoom(deps, roomId, { type: change.kind, roomId, messageId, emoji, userId, count });
    }
    case 'messages_read': {
      const { roomId, userId, lastReadSeq, lastReadMessageId, lastReadAt } = change.read;
      if (!lastReadMessageId || !lastReadAt) return { sent: 0, gone: 0 };
      return deliverToRoom(deps, roomId, { type: 'messages_read', roomId, userId, messageId: lastReadMessageId, seq: lastReadSeq, readAt: lastReadAt });
    }
    case 'connection_expired':
      await Promise.all([connectionExpired(deps, change.connection), unlistConnection(deps, change.connection)]);
      return { sent: 0, gone: 0 };
    case 'connection_closed':
      await unlistConnection(deps, change.connection);
      return { sent: 0, gone: 0 };
    case 'connection_opened':
      // Listed in its user's rooms before it is greeted: what the client catches up on after the
      // greeting, the lists deliver from then on.
      await listConnection(deps, change.connection);
      return greetConnection(deps, change.connection);
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



/** How long `$connect` may run (its function's timeout), and the pauses between tries meanwhile. */
export const GREETING_RETRY = { withinMs: 10_000, firstPauseMs: 50, maxPauseMs: 500 } as const;

/**
 * `connection_established`. Its stream record can be handled before API Gateway has finished the
 * upgrade (the item is written inside `$connect`), when a post is answered 410: a connection that
 * may still be inside its `$connect` is tried again rather than left waiting for a greeting that
 * never comes, until it is closed. Only this connection's key waits meanwhile.
 */
async function greetConnection(deps: Deps, c: ConnectionRecord): Promise<Delivery> {
  const { connectionId, userId } = c;
  for (let pause: number = GREETING_RETRY.firstPauseMs; ; pause = Math.min(pause * 2, GREETING_RETRY.maxPauseMs)) {
    const frame: ServerFrame = { type: 'connection_established', connectionId, userId, serverTime: deps.clock.now().toISOString() };
    if ((await deps.broadcaster.send(connectionId, frame)) === 'sent') return { sent: 1, gone: 0 };
    // Not worth waiting for: too old to be inside its `$connect`, or already closed (`$disconnect` deleted its item).
    if (deps.clock.now().getTime() + pause - Date.parse(c.connectedAt) > GREETING_RETRY.withinMs || !(await deps.connections.isStored(connectionId))) {
      await forgetGoneConnection(deps, connectionId);
      return { sent: 0, gone: 1 };
    }
    await deps.clock.sleep(pause);
  }
}
