import type { MemberRecord, MessageRecord, ReactionRecord, RoomRecord } from '#shared/model.ts';
import type { ImageSize } from '#shared/ports/attachments.ts';

/** The public message object clients receive (docs/messages.md). */
export interface MessageView {
  id: string;
  roomId: string;
  seq: number;
  senderId: string;
  sender: { id: string; displayName: string };
  type: string;
  content: string;
  replyTo?: { id: string; seq: number; senderId: string; excerpt: string };
  mentions: string[];
  metadata?: Record<string, unknown>;
  /**
   * `thumbnailUrl`: a JPEG of at most 320 px on the long side, once the thumbnail function made it.
   * `width`, `height`: an image's displayed size in pixels (after EXIF orientation), when known: as
   * the sender declared it, then as the thumbnail function measured it.
   */
  attachments: { id: string; name: string; size: number; contentType: string; url: string; thumbnailUrl?: string; width?: number; height?: number }[];
  reactions: { emoji: string; count: number; me: boolean }[];
  createdAt: string;
  editedAt?: string;
  deletedAt?: string;
  clientMessageId?: string;
}

export type ReactionView = MessageView['reactions'][number];

/** `[{emoji, count, me}]` in the order each emoji was first used. */
export function reactionSummary(reactions: ReactionRecord[], viewerId?: string): ReactionView[] {
  const byEmoji = new Map<string, ReactionView & { first: string }>();
  for (const r of reactions) {
    const entry = byEmoji.get(r.emoji) ?? { emoji: r.emoji, count: 0, me: false, first: r.createdAt };
    entry.count++;
    entry.me ||= r.userId === viewerId;
    if (r.createdAt < entry.first) entry.first = r.createdAt;
    byEmoji.set(r.emoji, entry);
  }
  return [...byEmoji.values()].sort((a, b) => a.first.localeCompare(b.first)).map(({ emoji, count, me }) => ({ emoji, count, me }));
}

/**
 * The public message; `reactions` are this message's reaction records, `viewerId` decides `me`.
 * `urls` (attachment id → presigned download URL, from `attachmentUrls`) is given only to members:
 * an attachment without a URL is left out. Its `thumbnails` map gives thumbnail URLs, its `sizes`
 * images' measured sizes.
 */
export function messageView(
  m: MessageRecord,
  reactions: ReactionRecord[] = [],
  viewerId?: string,
  urls?: ReadonlyMap<string, string> & { thumbnails?: ReadonlyMap<string, string>; sizes?: ReadonlyMap<string, ImageSize> },
): MessageView {
  return {
    id: m.id,
    roomId: m.roomId,
    seq: m.seq,
    senderId: m.senderId,
    sender: { id: m.senderId, displayName: m.senderName },
    type: m.type,
    content: m.deletedAt ? '' : m.content,
    ...(m.replyTo && { replyTo: m.replyTo }),
    mentions: m.mentions,
    ...(m.metadata && !m.deletedAt && { metadata: m.metadata }),
    attachments: m.deletedAt
      ? []
      : (m.attachments ?? []).flatMap((a) => {
          const url = urls?.get(a.id);
          const thumbnailUrl = urls?.thumbnails?.get(a.id);
          // Measured beats declared: the sender's size was only a hint.
          const dims = urls?.sizes?.get(a.id) ?? (a.width && a.height ? { width: a.width, height: a.height } : undefined);
          return url ? [{ id: a.id, name: a.name, size: a.size, contentType: a.contentType, url, ...(thumbnailUrl && { thumbnailUrl }), ...dims }] : [];
        }),
    reactions: m.deletedAt ? [] : reactionSummary(reactions, viewerId),
    createdAt: m.createdAt,
    ...(m.editedAt && { editedAt: m.editedAt }),
    ...(m.deletedAt && { deletedAt: m.deletedAt }),
    ...(m.clientMessageId && { clientMessageId: m.clientMessageId }),
  };
}

export interface RoomView {
  id: string;
  type: RoomRecord['type'];
  name?: string;
  description?: string;
  visibility: RoomRecord['visibility'];
  maxMembers: number;
  memberCount: number;
  context?: { kind: string; id: string };
  createdBy: string;
  createdAt: string;
  lastActivityAt: string;
  lastSeq: number;
  archivedAt?: string;
}

export function roomView(r: RoomRecord): RoomView {
  return {
    id: r.roomId,
    type: r.type,
    ...(r.name !== undefined && { name: r.name }),
    ...(r.description !== undefined && { description: r.description }),
    visibility: r.visibility,
    maxMembers: r.maxMembers,
    memberCount: r.memberCount,
    ...(r.context && { context: r.context }),
    createdBy: r.createdBy,
    createdAt: r.createdAt,
    lastActivityAt: r.lastActivityAt,
    lastSeq: r.lastSeq,
    ...(r.archivedAt && { archivedAt: r.archivedAt }),
  };
}

/** A member as clients see them, with their read mark (from their seat; a new member's is 0). */
export function memberView(m: MemberRecord, lastReadSeq: number) {
  return { userId: m.userId, displayName: m.displayName, role: m.role, joinedAt: m.joinedAt, lastReadSeq };
}
