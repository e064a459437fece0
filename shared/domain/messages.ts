import type { Deps, MessageRecord, User } from '../ports.ts';
import { conflict, notFound, validationFailed } from '../errors.ts';
import type { HistoryQuery, SendMessageInput } from '../schemas/messages.ts';
import { requireMembership } from './rooms.ts';
import { messageView, type MessageView } from './views.ts';

/** How long a clientMessageId is remembered, and when an unfinished claim may be taken over. */
export const SEND_CLAIM_TTL_SECONDS = 24 * 60 * 60;
const STALE_CLAIM_MS = 30_000;
const CLAIM_WAIT_MS = 5_000;
const EXCERPT_LENGTH = 120;

/**
 * Message ids are a ULID followed by the seq in base 36: opaque to clients, but the server finds
 * a message from its id with one GetItem, no index. A forged id finds nothing (the full id is compared).
 */
export const messageIdFor = (ulid: string, seq: number) => `${ulid}${seq.toString(36)}`;
export function seqFromMessageId(id: string): number | undefined {
  if (id.length <= 26) return undefined;
  const seq = Number.parseInt(id.slice(26), 36);
  return Number.isSafeInteger(seq) && seq > 0 ? seq : undefined;
}

export async function findMessage(deps: Deps, roomId: string, messageId: string): Promise<MessageRecord | undefined> {
  const seq = seqFromMessageId(messageId);
  if (seq === undefined) return undefined;
  const m = await deps.messages.getMessage(roomId, seq);
  return m?.id === messageId ? m : undefined;
}

export interface SendResult {
  message: MessageView;
  /** False when a `clientMessageId` retry returned the message stored the first time. */
  created: boolean;
}

/**
 * Stores a message as the room's next seq. With a `clientMessageId`, a claim item makes retries
 * (even racing ones) return the first stored message instead of storing another.
 */
export async function sendMessage(deps: Deps, actor: User, roomId: string, input: SendMessageInput): Promise<SendResult> {
  const { room } = await requireMembership(deps, roomId, actor.userId);
  if (room.archivedAt) throw conflict('The room is archived');
  const now = deps.clock.now().toISOString();

  if (input.clientMessageId) {
    const existing = await claimOrFind(deps, roomId, actor.userId, input.clientMessageId, now);
    if (existing) return { message: messageView(existing), created: false };
  }

  const replyTo = input.replyTo ? await replyRef(deps, roomId, input.replyTo) : undefined;
  const seq = await deps.messages.nextSeq(roomId, now);
  if (seq === undefined) throw conflict('The room is archived');
  const message: MessageRecord = {
    id: messageIdFor(deps.ids.newId(), seq),
    roomId,
    seq,
    senderId: actor.userId,
    senderName: actor.displayName,
    type: input.messageType,
    content: input.content ?? '',
    ...(replyTo && { replyTo }),
    mentions: [],
    ...(input.metadata && { metadata: input.metadata }),
    ...(input.clientMessageId && { clientMessageId: input.clientMessageId }),
    createdAt: now,
  };
  await deps.messages.putMessage(message);
  await Promise.all([
    input.clientMessageId && deps.messages.completeClaim(roomId, actor.userId, input.clientMessageId, seq),
    // Sending marks everything up to one's own message read.
    deps.rooms.markRead(roomId, actor.userId, seq),
  ]);
  return { message: messageView(message), created: true };
}

/** Claims the clientMessageId, or returns the message an earlier attempt stored under it. */
async function claimOrFind(deps: Deps, roomId: string, userId: string, clientMessageId: string, now: string): Promise<MessageRecord | undefined> {
  const deadline = Date.now() + CLAIM_WAIT_MS;
  for (;;) {
    const claim = await deps.messages.claimSend(roomId, userId, clientMessageId, now, SEND_CLAIM_TTL_SECONDS);
    if (claim.state === 'claimed') return undefined;
    if (claim.seq !== undefined) {
      const stored = await deps.messages.getMessage(roomId, claim.seq);
      if (stored) return stored;
    } else if (Date.parse(claim.claimedAt) < deps.clock.now().getTime() - STALE_CLAIM_MS) {
      // The first attempt died between claiming and storing: this one takes its place.
      if (await deps.messages.retakeStaleClaim(roomId, userId, clientMessageId, claim.claimedAt, now)) return undefined;
    }
    if (Date.now() > deadline) throw conflict('A send with this clientMessageId is still in progress; retry shortly');
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function replyRef(deps: Deps, roomId: string, replyToId: string): Promise<MessageRecord['replyTo']> {
  const target = await findMessage(deps, roomId, replyToId);
  if (!target) throw validationFailed('replyTo must name a message of this room', { issues: [{ path: 'replyTo', message: 'no such message in this room' }] });
  const text = target.deletedAt ? '' : target.content;
  return {
    id: target.id,
    seq: target.seq,
    senderId: target.senderId,
    excerpt: text.length > EXCERPT_LENGTH ? `${text.slice(0, EXCERPT_LENGTH - 1)}…` : text,
  };
}

/**
 * A page of history: newest first (below `beforeSeq` if given), or ascending after `afterSeq`
 * (catch-up). `nextCursor` is the seq to pass as `beforeSeq` / `afterSeq` for the next page.
 */
export async function listMessages(deps: Deps, actor: User, roomId: string, q: HistoryQuery): Promise<{ items: MessageView[]; nextCursor?: string }> {
  await requireMembership(deps, roomId, actor.userId);
  const records = await deps.messages.listMessages(roomId, q);
  const items = records.map(messageView);
  const last = items.at(-1);
  return items.length === q.limit && last && (q.afterSeq !== undefined || last.seq > 1)
    ? { items, nextCursor: String(last.seq) }
    : { items };
}

export async function getMessage(deps: Deps, actor: User, roomId: string, messageId: string): Promise<MessageView> {
  await requireMembership(deps, roomId, actor.userId);
  const m = await findMessage(deps, roomId, messageId);
  if (!m) throw notFound('Message');
  return messageView(m);
}

