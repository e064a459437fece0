import { createHash } from 'node:crypto';
import type { Change, MessageRecord, RoomRecord } from '#shared/model.ts';
import type { Deps } from '#shared/ports/runtime.ts';
import type { DetailType, EventPublisher, OutboundEvent } from '#shared/ports/events.ts';
import { messageView, roomView } from './views.ts';

/** A stored change the host platform hears of: the fan-out's changes, and rooms coming into being. */
export type EventChange = Change | { kind: 'room_created'; room: RoomRecord };

/**
 * An id that is the same every time it is made from the same parts (a stream record's id, a
 * notification's room, seq and user): consumers drop what they have seen by it.
 */
export function stableId(...parts: (string | number)[]): string {
  const h = createHash('sha256').update(parts.join('\u0000')).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

/**
 * Events carry the message as the frames do, except attachments: no presigned download URL
 * (it would expire in the consumer's queue), their id, name, size and type instead.
 */
export function messageDetail(m: MessageRecord) {
  return {
    ...messageView(m),
    attachments: m.deletedAt ? [] : (m.attachments ?? []).map(({ id, name, size, contentType }) => ({ id, name, size, contentType })),
  };
}

/**
 * The outbound event a stored change makes, or `undefined` for changes the host platform is not
 * told of (receipts, connections, presence). `sourceId` identifies the change itself (the stream
 * record), so a retry yields the same event id.
 */
export async function eventFor(deps: Pick<Deps, 'messages' | 'clock'>, change: EventChange, sourceId: string): Promise<OutboundEvent | undefined> {
  const now = deps.clock.now().toISOString();
  const event = (detailType: DetailType, time: string, detail: OutboundEvent['detail']): OutboundEvent => ({ id: stableId(sourceId, detailType), detailType, time, detail });
  switch (change.kind) {
    case 'message_created':
      return event('message.created', change.message.createdAt, { roomId: change.message.roomId, message: messageDetail(change.message) });
    case 'message_edited': {
      const m = change.message;
      const reactions = await deps.messages.reactionsBetween(m.roomId, m.seq, m.seq);
      return event('message.edited', m.editedAt ?? now, { roomId: m.roomId, message: { ...messageDetail(m), reactions: messageView(m, reactions).reactions } });
    }
    case 'message_deleted': {
      const { roomId, id, seq, deletedAt } = change.message;
      return event('message.deleted', deletedAt ?? now, { roomId, messageId: id, seq });
    }
    case 'reaction_added':
    case 'reaction_removed': {
      const { roomId, messageId, seq, emoji, userId, createdAt } = change.reaction;
      const count = await deps.messages.countReactions(roomId, seq, emoji);
      const added = change.kind === 'reaction_added';
      return event(added ? 'reaction.added' : 'reaction.removed', added ? createdAt : now, { roomId, messageId, emoji, userId, count });
    }
    case 'member_joined':
    case 'member_left': {
      const { roomId, userId, displayName, role, joinedAt } = change.member;
      const joined = change.kind === 'member_joined';
      return event(joined ? 'member.joined' : 'member.left', joined ? joinedAt : now, { roomId, userId, displayName, role });
    }
    case 'room_created':
      return event('room.created', change.room.createdAt, { roomId: change.room.roomId, room: roomView(change.room) });
    case 'room_updated':
      return event('room.updated', now, { roomId: change.room.roomId, room: roomView(change.room) });
    case 'room_archived':
      return event('room.archived', change.room.archivedAt ?? now, { roomId: change.room.roomId });
    default:
      return undefined;
  }
}

/** Publishes the change's event; a new message then asks for its notifications (see notifications.ts). */
export async function publishChange(deps: Pick<Deps, 'messages' | 'clock'> & { events: EventPublisher }, change: EventChange, sourceId: string): Promise<OutboundEvent | undefined> {
  const event = await eventFor(deps, change, sourceId);
  if (event) await deps.events.publish([event]);
  return event;
}
