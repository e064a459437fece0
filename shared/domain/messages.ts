import type { Deps } from '#shared/ports/runtime.ts';
import type { MemberRecord, MessageRecord, User } from '#shared/model.ts';
import { conflict, forbidden, notFound, validationFailed } from '#shared/errors.ts';
import type { ChangesQuery, HistoryQuery, SendMessageInput } from '#shared/schemas/messages.ts';
import { requireMembership } from './access.ts';
import { limit } from './rate-limit.ts';
import { messageView, type MessageView } from './views.ts';
import { attachUploads, attachmentUrls, removeAttachments } from './attachments.ts';

/** A user's last sends per room whose clientMessageId is remembered on their member item. */
export const SENT_WINDOW = 10;
/** How far back a retry looks for the message its first attempt stored. */
const RETRY_SEARCH_MESSAGES = 1000;
const STALE_CLAIM_MS = 30_000;
const CLAIM_WAIT_MS = 5_000;
const EXCERPT_LENGTH = 120;
/** Catch-up log entries live this long; a client away longer re-reads history. */
export const CHANGE_TTL_SECONDS = 30 * 24 * 60 * 60;
/** Clocks of concurrent writers differ a little: catch-up hands back this much again. */
const CHANGE_SKEW_MS = 5_000;

/**
 * Message ids are a ULID followed by the seq in base 36: opaque to clients, but the server finds
 * a message from its id with one GetItem, no index. A forged id finds nothing (the full id is compared).
 */
export const messageIdFor = (ulid: string, seq: number) => `${ulid}${seq.toString(36)}`;
export function seqFromMessageId(id: string): number | undefined {
  if (id.length <= 26) return undefined;
  const seq = Number.parseInt(id.slice(26), 36);
  return Number.isSafeInteger(seq) && seq > 0 && seq.toString(36) === id.slice(26) ? seq : undefined;
}

export async function findMessage(deps: Deps, roomId: string, messageId: string): Promise<MessageRecord | undefined> {
  const seq = seqFromMessageId(messageId);
  if (seq === undefined) return undefined;
  const m = await deps.messages.getMessage(roomId, seq);
  return m?.id === messageId ? m : undefined;
}

async function requireMessage(deps: Deps, roomId: string, messageId: string): Promise<MessageRecord> {
  const m = await findMessage(deps, roomId, messageId);
  if (!m) throw notFound('Message');
  return m;
}

/** The message as `viewerId` (a member: callers check) sees it, with its reactions and download URLs. */
export async function viewOf(deps: Deps, m: MessageRecord, viewerId: string): Promise<MessageView> {
  const [reactions, urls] = await Promise.all([
    m.deletedAt ? [] : deps.messages.reactionsBetween(m.roomId, m.seq, m.seq),
    attachmentUrls(deps, [m]),
  ]);
  return messageView(m, reactions, viewerId, urls);
}

/** Many messages of one room with their reactions, in one range query, and download URLs. */
export async function viewsOf(deps: Deps, roomId: string, records: MessageRecord[], viewerId: string): Promise<MessageView[]> {
  if (records.length === 0) return [];
  const seqs = records.map((m) => m.seq);
  const [reactions, urls] = await Promise.all([
    deps.messages.reactionsBetween(roomId, Math.min(...seqs), Math.max(...seqs)),
    attachmentUrls(deps, records),
  ]);
  return records.map((m) => messageView(m, reactions.filter((r) => r.seq === m.seq), viewerId, urls));
}

function checkContent(deps: Deps, content: string): void {
  const length = [...content].length;
  if (length > deps.settings.maxContentLength) {
    throw validationFailed(`content is ${length} characters; at most ${deps.settings.maxContentLength} are allowed`, {
      issues: [{ path: 'content', message: `at most ${deps.settings.maxContentLength} characters` }],
    });
  }
}

/** `<@userId>` mentions of users who belong to the room. */
async function resolveMentions(deps: Deps, roomId: string, content: string): Promise<string[]> {
  const ids = [...new Set([...content.matchAll(/<@([^\s<>#]{1,128})>/gu)].map((m) => m[1]!))].slice(0, 50);
  if (ids.length === 0) return [];
  const members = new Set((await deps.rooms.getMembers(roomId, ids)).map((m) => m.userId));
  return ids.filter((id) => members.has(id));
}

export interface SendResult {
  message: MessageView;
  /** False when a `clientMessageId` retry returned the message stored the first time. */
  created: boolean;
}

/**
 * Stores a message as the room's next seq. Writes: the sender's member item (read mark forward,
 * and the clientMessageId claim that makes retries, even racing ones, return the first message),
 * the room's seq counter, the message.
 */
export async function sendMessage(deps: Deps, actor: User, roomId: string, input: SendMessageInput): Promise<SendResult> {
  // The rate counter is written beside the membership read, so a send waits for no extra round trip.
  const [{ room, member }] = await Promise.all([requireMembership(deps, roomId, actor.userId), limit(deps, actor.userId, 'send')]);
  if (room.archivedAt) throw conflict('The room is archived');
  const content = input.content ?? '';
  checkContent(deps, content);
  const cmid = input.clientMessageId;
  // Set when this attempt took over the claim of one that died: it must not claim again.
  let claimHeld = false;
  const claimedAt = cmid ? member.sent?.get(cmid) : undefined;
  if (cmid && claimedAt) {
    const existing = await awaitFirstAttempt(deps, roomId, actor.userId, cmid, claimedAt);
    if (existing) return { message: await viewOf(deps, existing, actor.userId), created: false };
    claimHeld = true;
  }
  const [replyTo, mentions] = await Promise.all([
    input.replyTo ? replyRef(deps, roomId, input.replyTo) : undefined,
    resolveMentions(deps, roomId, content),
  ]);
  // --- attachments: last check before anything is written for this send; it claims
  // the sender's uploads (each once) and verifies the files. The type follows from the files.
  const attached = input.attachmentIds?.length ? await attachUploads(deps, actor, roomId, input.attachmentIds) : undefined;
  // --- end attachments
  const now = deps.clock.now().toISOString();

  // Sending marks everything up to one's own message read; without contention that is lastSeq + 1.
  const expectedSeq = room.lastSeq + 1;
  const mark = {
    roomId,
    userId: actor.userId,
    readSeq: expectedSeq,
    at: now,
    ...(cmid && !claimHeld && { claim: { clientMessageId: cmid, drop: oldestSent(member, SENT_WINDOW - 1) } }),
  };
  let seq: number | undefined;
  if (mark.claim) {
    if (!(await deps.rooms.markSent(mark))) {
      const existing = await awaitFirstAttempt(deps, roomId, actor.userId, mark.claim.clientMessageId, now);
      if (existing) return { message: await viewOf(deps, existing, actor.userId), created: false };
    }
    seq = await deps.messages.nextSeq(roomId, now);
  } else {
    [, seq] = await Promise.all([deps.rooms.markSent(mark), deps.messages.nextSeq(roomId, now)]);
  }
  if (seq === undefined) throw conflict('The room is archived');

  const message = await storeMessage(deps, roomId, seq, {
    senderId: actor.userId,
    senderName: actor.displayName,
    type: attached?.type ?? input.messageType,
    content,
    ...(replyTo && { replyTo }),
    mentions,
    ...(input.metadata && { metadata: input.metadata }),
    ...(cmid && { clientMessageId: cmid }),
    ...(attached && { attachments: attached.refs }),
    createdAt: now,
  });
  // Others sent first: move the mark on to this message (rare, so the common case writes once).
  if (seq > expectedSeq) await deps.rooms.markSent({ roomId, userId: actor.userId, readSeq: seq, at: now });
  return { message: messageView(message, [], undefined, await attachmentUrls(deps, [message])), created: true };
}

export type NewMessage = Omit<MessageRecord, 'id' | 'roomId' | 'seq'>;

/** Stores a message at a seq already taken from the room (`nextSeq`). */
async function storeMessage(deps: Deps, roomId: string, seq: number, m: NewMessage): Promise<MessageRecord> {
  const message: MessageRecord = { id: messageIdFor(deps.ids.newId(), seq), roomId, seq, ...m };
  await deps.messages.putMessage(message);
  return message;
}

/**
 * Appends a message as the room's next seq with no membership check: for messages the system
 * or the host platform posts (`system`, `payment`, ...). `undefined` if the room is archived or gone.
 */
export async function appendMessage(deps: Deps, roomId: string, m: Omit<NewMessage, 'createdAt'>): Promise<MessageRecord | undefined> {
  const now = deps.clock.now().toISOString();
  const seq = await deps.messages.nextSeq(roomId, now);
  return seq === undefined ? undefined : storeMessage(deps, roomId, seq, { ...m, createdAt: now });
}

/** The clientMessageIds to forget so that at most `keep` remain, oldest first. */
function oldestSent(member: MemberRecord, keep: number): string[] {
  const entries = [...(member.sent ?? new Map<string, string>())].sort((a, b) => a[1].localeCompare(b[1]));
  return entries.slice(0, Math.max(0, entries.length - keep)).map(([id]) => id);
}

/**
 * A retry: waits for the message the first attempt stores, or takes over the claim if that
 * attempt seems to have died before storing anything.
 */
async function awaitFirstAttempt(deps: Deps, roomId: string, userId: string, cmid: string, claimedAt: string): Promise<MessageRecord | undefined> {
  const deadline = deps.clock.now().getTime() + CLAIM_WAIT_MS;
  for (;;) {
    const stored = await deps.messages.findByClientMessageId(roomId, userId, cmid, RETRY_SEARCH_MESSAGES);
    if (stored) return stored;
    if (Date.parse(claimedAt) < deps.clock.now().getTime() - STALE_CLAIM_MS) {
      if (await deps.rooms.retakeClaim(roomId, userId, cmid, claimedAt, deps.clock.now().toISOString())) return undefined;
      const member = await deps.rooms.getMember(roomId, userId);
      claimedAt = member?.sent?.get(cmid) ?? claimedAt;
    }
    if (deps.clock.now().getTime() > deadline) throw conflict('A send with this clientMessageId is still in progress; retry shortly');
    await deps.clock.sleep(50);
  }
}

async function replyRef(deps: Deps, roomId: string, replyToId: string): Promise<MessageRecord['replyTo']> {
  const target = await findMessage(deps, roomId, replyToId);
  if (!target) throw validationFailed('replyTo must name a message of this room', { issues: [{ path: 'replyTo', message: 'no such message in this room' }] });
  const text = target.deletedAt ? '' : target.content;
  const chars = [...text];
  return {
    id: target.id,
    seq: target.seq,
    senderId: target.senderId,
    excerpt: chars.length > EXCERPT_LENGTH ? `${chars.slice(0, EXCERPT_LENGTH - 1).join('')}…` : text,
  };
}

/** Edits one's own message within the edit window; never a deleted one. */
export async function editMessage(deps: Deps, actor: User, roomId: string, messageId: string, content: string): Promise<MessageView> {
  if (content.trim() === '') throw validationFailed('content must not be empty', { issues: [{ path: 'content', message: 'required' }] });
  checkContent(deps, content);
  const [{ room }] = await Promise.all([requireMembership(deps, roomId, actor.userId), limit(deps, actor.userId, 'write')]);
  if (room.archivedAt) throw conflict('The room is archived');
  const message = await requireMessage(deps, roomId, messageId);
  if (message.senderId !== actor.userId) throw forbidden('Only the sender can edit a message');
  if (message.deletedAt) throw conflict('The message was deleted');
  const now = deps.clock.now();
  const window = deps.settings.editWindowSeconds;
  const notBefore = window > 0 ? new Date(now.getTime() - window * 1000).toISOString() : undefined;
  if (notBefore && message.createdAt < notBefore) throw forbidden(`Messages can be edited for ${window} seconds after sending`);
  const mentions = await resolveMentions(deps, roomId, content);
  const at = now.toISOString();
  const outcome = await deps.messages.editMessage(roomId, message.seq, { editorId: actor.userId, content, mentions, at, ...(notBefore && { notBefore }) });
  if (outcome !== 'done') throw conflict('The message changed meanwhile; read it again');
  await deps.messages.recordChange({ roomId, seq: message.seq, messageId, kind: 'edited', at }, CHANGE_TTL_SECONDS);
  return viewOf(deps, { ...message, content, mentions, editedAt: at }, actor.userId);
}

/** Deletes a message: the sender, or a moderator or admin of the room. Leaves a tombstone. */
export async function deleteMessage(deps: Deps, actor: User, roomId: string, messageId: string): Promise<MessageView> {
  const [{ member }] = await Promise.all([requireMembership(deps, roomId, actor.userId), limit(deps, actor.userId, 'write')]);
  const message = await requireMessage(deps, roomId, messageId);
  if (message.senderId !== actor.userId && member.role === 'member') {
    throw forbidden('Only the sender, a moderator or an admin can delete a message');
  }
  // The tombstone keeps its attachment refs (never shown): a retried delete finishes the clean-up.
  if (message.deletedAt) {
    await removeAttachments(deps, message);
    return messageView(message);
  }
  const at = deps.clock.now().toISOString();
  if ((await deps.messages.deleteMessage(roomId, message.seq, at)) === 'done') {
    await deps.messages.recordChange({ roomId, seq: message.seq, messageId, kind: 'deleted', at }, CHANGE_TTL_SECONDS);
  }
  await removeAttachments(deps, message);
  const { metadata: _m, replyTo: _r, ...kept } = message;
  return messageView({ ...kept, content: '', mentions: [], deletedAt: at });
}

/**
 * A page of history: newest first (below `beforeSeq` if given), or ascending after `afterSeq`
 * (catch-up). `nextCursor` is the seq to pass as `beforeSeq` / `afterSeq` for the next page.
 */
export async function listMessages(deps: Deps, actor: User, roomId: string, q: HistoryQuery): Promise<{ items: MessageView[]; nextCursor?: string }> {
  await requireMembership(deps, roomId, actor.userId);
  const items = await viewsOf(deps, roomId, await deps.messages.listMessages(roomId, q), actor.userId);
  const last = items.at(-1);
  return items.length === q.limit && last && (q.afterSeq !== undefined || last.seq > 1)
    ? { items, nextCursor: String(last.seq) }
    : { items };
}

/** One message with `readBy`: the members whose read mark has reached it (derived, never stored per message). */
export async function getMessage(deps: Deps, actor: User, roomId: string, messageId: string): Promise<MessageView & { readBy: { userId: string; readAt?: string }[] }> {
  await requireMembership(deps, roomId, actor.userId);
  const m = await requireMessage(deps, roomId, messageId);
  const [view, members] = await Promise.all([viewOf(deps, m, actor.userId), deps.rooms.listMembers(roomId)]);
  const readBy = members
    .filter((x) => x.userId !== m.senderId && x.lastReadSeq >= m.seq)
    .map((x) => ({ userId: x.userId, ...(x.lastReadAt && { readAt: x.lastReadAt }) }));
  return { ...view, readBy };
}

/**
 * What changed since `since` among messages a client already has: the current state of every
 * message edited, deleted or reacted to, in the order of the changes. `cursor` is the `since`
 * of the next call (a few seconds early, so changes from writers with slower clocks are not missed).
 */
export async function listChanges(deps: Deps, actor: User, roomId: string, q: ChangesQuery): Promise<{ items: MessageView[]; cursor: string; hasMore: boolean }> {
  await requireMembership(deps, roomId, actor.userId);
  const since = new Date(Date.parse(q.since) - CHANGE_SKEW_MS).toISOString();
  const changes = await deps.messages.changesSince(roomId, since, q.limit);
  const seqs = [...new Set(changes.map((c) => c.seq))];
  const records = new Map((await deps.messages.getMessages(roomId, seqs)).map((m) => [m.seq, m]));
  const views = new Map((await viewsOf(deps, roomId, [...records.values()], actor.userId)).map((v) => [v.seq, v]));
  const items = seqs.flatMap((s) => views.get(s) ?? []);
  const hasMore = changes.length === q.limit;
  const lastAt = changes.at(-1)?.at;
  const cursor = hasMore && lastAt ? lastAt : new Date(Math.max(Date.parse(q.since), deps.clock.now().getTime() - CHANGE_SKEW_MS)).toISOString();
  return { items, cursor, hasMore };
}

