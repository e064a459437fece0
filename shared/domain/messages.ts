import type { Deps } from '#shared/ports/runtime.ts';
import type { ChangeRecord, MessageRecord, RoomRecord, SeatRecord, User } from '#shared/model.ts';
import type { SendMark } from '#shared/ports/rooms.ts';
import { AppError, conflict, forbidden, notFound, unavailable, validationFailed } from '#shared/errors.ts';
import type { ChangesQuery, HistoryQuery, SendMessageInput } from '#shared/schemas/messages.ts';
import { requireMembership, requireSeatWithLatest } from './access.ts';
import { isCount, isEpochMs, openCursor, sealCursor, type CursorScope, type Position } from './cursors.ts';
import { limit } from './rate-limit.ts';
import { messageView, type MessageView } from './views.ts';
import { attachUploads, attachmentUrls, removeAttachments } from './attachments.ts';

/** A user's last sends per room whose clientMessageId is remembered on their seat. */
export const SENT_WINDOW = 10;
/** At most this many bytes of claims on a seat: ten UUIDs fit, fewer of the longest ids. */
const SENT_BYTES = 420;
/** How far a retry reads (messages) for the message its first attempt stored. */
const RETRY_SEARCH_MESSAGES = 2000;
/**
 * How long a send goes on trying seqs taken by concurrent sends before it answers `unavailable`
 * (under API Gateway's 29 s; in Lambda the function's own timeout may end it first, which leaves
 * no gap either: the client's retry of its clientMessageId completes it), and the backoff between tries.
 */
const SEQ_DEADLINE_MS = 28_000;
const SEQ_BACKOFF_BASE_MS = 8;
const SEQ_BACKOFF_GROWTH = 4;
const SEQ_BACKOFF_CAP_MS = 2_000;
/** A refused put that took long says the store is busy with others: wait at least this many times as long. */
const SEQ_BACKOFF_PUT_FACTOR = 2;
/** How long a retry of a send with attachments waits for its first attempt (which holds the uploads). */
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

/**
 * The message as `viewerId` (a member: callers check) sees it, with its reactions and download
 * URLs. `unreacted`: the caller knows it has no reaction (its room's `reactedSeq` is below it).
 */
export async function viewOf(deps: Deps, m: MessageRecord, viewerId: string, opts: { unreacted?: boolean } = {}): Promise<MessageView> {
  const [reactions, urls] = await Promise.all([
    m.deletedAt || opts.unreacted ? [] : deps.messages.reactionsBetween(m.roomId, m.seq, m.seq),
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
 * Stores a message as the room's next seq, with two writes (docs/design.md, "Sending"):
 * 1. the sender's seat: the send counted in its rate window, the clientMessageId claimed (with
 *    the seq this send starts from), the sender's own read mark; it exists only while they are a
 *    member, so this write is also the membership check;
 * 2. the message itself, put only if its seq is free. That put is what takes the seq, so a send
 *    that dies anywhere leaves no gap; on a conflict it goes on to a later seq.
 * A retry of a claimed clientMessageId looks for the message from the claimed seq on, and stores
 * it itself if its first attempt died: a writer of that id meets any message the other stored.
 */
export async function sendMessage(deps: Deps, actor: User, roomId: string, input: SendMessageInput): Promise<SendResult> {
  // The seat is read eventually consistent (half the units): the seat write's conditions hold
  // the truth. A member removed a moment ago is refused by it (their seat went with them); a
  // claim or window count not yet seen makes it refuse, and the seat read again strongly tells
  // why. The room is read with its newest message, consistently: the seq this send starts from.
  const { room, seat, latest: newest } = await requireSeatWithLatest(deps, roomId, actor.userId, { consistent: false });
  const latest = newest?.seq ?? 0;
  if (room.archivedAt) throw conflict('The room is archived');
  const content = input.content ?? '';
  checkContent(deps, content);
  const cmid = input.clientMessageId;
  const claimed = cmid === undefined ? undefined : seat.sent?.get(cmid);
  if (cmid !== undefined && claimed !== undefined) return resend(deps, actor, roomId, input, cmid, claimed);
  const draft = await draftOf(deps, actor, roomId, input);
  const now = deps.clock.now();
  const at = now.toISOString();
  const fromSeq = latest + 1;
  const rule = deps.settings.rateLimits.send;
  const nowS = now.getTime() / 1000;
  const windowStart = rule.limit > 0 ? Math.floor(nowS / rule.windowSeconds) * rule.windowSeconds : undefined;
  const markFor = (m: SeatRecord): SendMark => ({
    roomId,
    userId: actor.userId,
    readSeq: fromSeq,
    at,
    ...(windowStart !== undefined && { window: { start: windowStart, limit: rule.limit, drop: [...(m.sendWindows?.keys() ?? [])].filter((w) => w < windowStart) } }),
    ...(cmid !== undefined && { claim: { clientMessageId: cmid, fromSeq, drop: oldestSent(m, SENT_WINDOW - 1, cmid) } }),
  });
  for (let current = seat, attempt = 1; !(await deps.rooms.markSent(markFor(current))); attempt++) {
    // Refused: the seat as it is now tells why.
    const now2 = await deps.rooms.getSeat(roomId, actor.userId, { consistent: true });
    if (!now2) throw forbidden('You are not a member of this room');
    const claim = cmid === undefined ? undefined : now2.sent?.get(cmid);
    if (cmid !== undefined && claim !== undefined) return resend(deps, actor, roomId, input, cmid, claim);
    if (windowStart !== undefined && (now2.sendWindows?.get(windowStart) ?? 0) >= rule.limit) {
      const retryAfter = Math.max(1, Math.ceil(windowStart + rule.windowSeconds - nowS));
      throw new AppError('rate_limited', `Too many messages: at most ${rule.limit} per ${rule.windowSeconds} s; retry in ${retryAfter} s`, { retryAfter });
    }
    if (attempt >= 3) throw unavailable(1);
    current = now2;
  }
  const own = cmid === undefined ? undefined : { senderId: actor.userId, clientMessageId: cmid };
  const { message, created } = await insertAtNext(deps, roomId, fromSeq, { ...draft, createdAt: at, ...asRead(room) }, own);
  // Others sent first: move the sender's mark on to their message (under contention only). The
  // first write cannot set it: the seq is known only once the put took it, and the seat write
  // must come before the put (it claims the clientMessageId and counts the send); one transaction
  // of both would double every send's units to spare this write on contended ones.
  if (created && message.seq > fromSeq) await deps.rooms.markSent({ roomId, userId: actor.userId, readSeq: message.seq, at });
  return created ? { message: messageView(message, [], undefined, await attachmentUrls(deps, [message])), created } : { message: await viewOf(deps, message, actor.userId), created };
}

/**
 * A send whose clientMessageId the sender's seat already claims: the message its first attempt
 * stored (at the claimed seq or later), or, when that attempt died before storing it, this one.
 * Racing attempts cannot both store: each writer of the id meets, at the seq it tries, any
 * message the other stored (no seq between the claimed one and the newest is empty).
 */
async function resend(deps: Deps, actor: User, roomId: string, input: SendMessageInput, cmid: string, claim: number | string): Promise<SendResult> {
  // A claim stored before seqs were kept holds a time: look back as far as the search reads.
  const fromSeq = typeof claim === 'number' ? claim : Math.max(1, (await deps.messages.latestSeq(roomId)) - RETRY_SEARCH_MESSAGES + 1);
  const deadline = deps.clock.now().getTime() + (input.attachmentIds?.length ? CLAIM_WAIT_MS : 0);
  for (;;) {
    const { found, lastSeq } = await deps.messages.findSent(roomId, actor.userId, cmid, fromSeq, RETRY_SEARCH_MESSAGES);
    if (found) return { message: await viewOf(deps, found, actor.userId), created: false };
    // The first attempt holds the uploads: give it time before storing the message here.
    if (deps.clock.now().getTime() < deadline) {
      await deps.clock.sleep(100);
      continue;
    }
    const draft = await draftOf(deps, actor, roomId, input);
    const own = { senderId: actor.userId, clientMessageId: cmid };
    const { message, created } = await insertAtNext(deps, roomId, lastSeq + 1, { ...draft, createdAt: deps.clock.now().toISOString() }, own);
    return { message: await viewOf(deps, message, actor.userId), created };
  }
}

export type NewMessage = Omit<MessageRecord, 'id' | 'roomId' | 'seq'>;

/**
 * The message a send stores, but for its seq and time: sender, type, content, reply, mentions,
 * metadata, clientMessageId and attachments. Last before the message is written, it claims the
 * sender's uploads (each once) and verifies the files; the type follows from the files.
 */
async function draftOf(deps: Deps, actor: User, roomId: string, input: SendMessageInput): Promise<Omit<NewMessage, 'createdAt'>> {
  const content = input.content ?? '';
  const [replyTo, mentions] = await Promise.all([input.replyTo ? replyRef(deps, roomId, input.replyTo) : undefined, resolveMentions(deps, roomId, content)]);
  const attached = input.attachmentIds?.length ? await attachUploads(deps, actor, roomId, input.attachmentIds) : undefined;
  return {
    senderId: actor.userId,
    senderName: actor.displayName,
    type: attached?.type ?? input.messageType,
    content,
    ...(replyTo && { replyTo }),
    mentions,
    ...(input.metadata && { metadata: input.metadata }),
    ...(input.clientMessageId && { clientMessageId: input.clientMessageId }),
    ...(attached && { attachments: attached.refs }),
  };
}

/**
 * Stores the message at `fromSeq` or, on a conflict, the next free seq. `own` names a send by
 * clientMessageId: meeting its own message at a seq, it returns that one instead (never stores
 * twice). One conflict moves on one seq; from the second on it backs off and reads where the room
 * is (a read costs a fifth of a refused write), reading every message it skips when it looks for
 * its own. Past `SEQ_DEADLINE_MS` the store counts as busy.
 *
 * The backoff is full jitter under a window that grows fourfold a conflict (8, 32, 128 ms ... 2 s),
 * and is at least twice what the refused put itself took: a put that waited behind many others'
 * calls says many sends are racing, so the window is wide from the start rather than after
 * rounds of refused puts. Measured against doubling with no such floor, in four alternating runs
 * of the 250-send burst (test/integration/send-path.test.ts): 1,780 refused puts and 14.6 s on
 * average against 2,705 and 18.9 s (docs/performance.md, *Findings*).
 */
async function insertAtNext(deps: Deps, roomId: string, fromSeq: number, m: NewMessage, own?: { senderId: string; clientMessageId: string }): Promise<{ message: MessageRecord; created: boolean }> {
  const deadline = deps.clock.now().getTime() + SEQ_DEADLINE_MS;
  let seq = fromSeq;
  for (let conflicts = 0; ; ) {
    const message: MessageRecord = { id: messageIdFor(deps.ids.newId(), seq), roomId, seq, ...m };
    const putAt = deps.clock.now().getTime();
    const out = await deps.messages.insertMessage(message);
    if (out.stored) return { message, created: true };
    const putMs = deps.clock.now().getTime() - putAt;
    const { occupant } = out;
    if (own && occupant.clientMessageId === own.clientMessageId && occupant.senderId === own.senderId) return { message: occupant, created: false };
    if (deps.clock.now().getTime() > deadline) throw unavailable(1);
    // The first conflict is most often one other send: the next seq is likely free.
    if (++conflicts === 1) {
      seq++;
      continue;
    }
    const window = Math.max(SEQ_BACKOFF_BASE_MS * SEQ_BACKOFF_GROWTH ** (conflicts - 2), SEQ_BACKOFF_PUT_FACTOR * putMs);
    await deps.clock.sleep(Math.random() * Math.min(SEQ_BACKOFF_CAP_MS, window));
    if (own) {
      const { found, lastSeq } = await deps.messages.findSent(roomId, own.senderId, own.clientMessageId, seq + 1, RETRY_SEARCH_MESSAGES);
      if (found) return { message: found, created: false };
      seq = lastSeq + 1;
    } else {
      seq = Math.max(seq + 1, (await deps.messages.latestSeq(roomId)) + 1);
    }
  }
}

/**
 * Appends a message as the room's next seq with no membership check: for messages the system
 * or the host platform posts (`system`, `payment`, ...). `undefined` if the room is archived or gone.
 */
export async function appendMessage(deps: Deps, roomId: string, m: Omit<NewMessage, 'createdAt'>): Promise<MessageRecord | undefined> {
  const { room, latest } = await deps.rooms.getRoomWithLatest(roomId, { consistent: true });
  if (!room || room.archivedAt) return undefined;
  return (await insertAtNext(deps, roomId, (latest?.seq ?? 0) + 1, { ...m, createdAt: deps.clock.now().toISOString(), ...asRead(room) })).message;
}

/**
 * What a message keeps of its room as the send read it, strongly consistent, before storing it:
 * the member version (the fan-out's member ids read for it serve the room's next messages until
 * the members change) and the type (the events consumer tells a direct room's messages by it).
 */
function asRead(room: RoomRecord): Pick<MessageRecord, 'membersAt' | 'roomType'> {
  return { membersAt: room.memberVersion ?? 0, roomType: room.type };
}

/**
 * The clientMessageIds to forget so that at most `keep` remain, and their names take at most
 * `SENT_BYTES` beside `adding` (the seat stays under 1 KB, one write unit): oldest first;
 * claims that hold a time are older than any seq.
 */
function oldestSent(seat: SeatRecord, keep: number, adding: string): string[] {
  const order = (claim: number | string) => (typeof claim === 'number' ? claim : -1);
  const newestFirst = [...(seat.sent ?? new Map<string, number | string>())].sort((a, b) => order(b[1]) - order(a[1]));
  let bytes = claimBytes(adding);
  const kept = new Set<string>();
  for (const [id] of newestFirst) {
    bytes += claimBytes(id);
    if (kept.size >= keep || bytes > SENT_BYTES) break;
    kept.add(id);
  }
  return newestFirst.filter(([id]) => !kept.has(id)).map(([id]) => id);
}

/** A claim's share of the seat: its prefixed name (UTF-8) and a small number. */
const claimBytes = (id: string) => Buffer.byteLength(id) + 5;

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
 * (catch-up), or on from a `cursor` this list answered (for this room and user), in its direction.
 * `nextCursor` is that cursor for the next page, when there may be one.
 */
export async function listMessages(deps: Deps, actor: User, roomId: string, q: HistoryQuery): Promise<{ items: MessageView[]; nextCursor?: string }> {
  // A history cursor belongs to the room and the user, and carries its direction: older pages ('b') or catch-up ('a').
  const scope: CursorScope = { list: 'messages', userId: actor.userId, params: [roomId] };
  const from = q.cursor ? await openCursor(deps.cursorKey, scope, q.cursor, readHistoryPosition) : undefined;
  const after = from ? (from.direction === 'a' ? from.seq : undefined) : q.afterSeq;
  const before = from ? (from.direction === 'b' ? from.seq : undefined) : q.beforeSeq;
  const page = { limit: q.limit, ...(after !== undefined && { afterSeq: after }), ...(before !== undefined && { beforeSeq: before }) };
  const newest = after === undefined && before === undefined;
  if (!newest) await requireMembership(deps, roomId, actor.userId);
  const records = newest ? await newestPage(deps, actor, roomId, q.limit) : await deps.messages.listMessages(roomId, page);
  const items = await viewsOf(deps, roomId, records, actor.userId);
  const last = items.at(-1);
  return items.length === q.limit && last && (after !== undefined || last.seq > 1)
    ? { items, nextCursor: await sealCursor(deps.cursorKey, scope, [after !== undefined ? 'a' : 'b', last.seq]) }
    : { items };
}

/**
 * The newest page with the room in the same strongly consistent Query (the room read costs
 * nothing apart), after the member item: a non-member is refused before any message is read.
 */
async function newestPage(deps: Deps, actor: User, roomId: string, limit: number): Promise<MessageRecord[]> {
  if (!(await deps.rooms.getMemberNow(roomId, actor.userId))) {
    const { room } = await deps.rooms.getRoomWithLatest(roomId);
    throw room ? forbidden('You are not a member of this room') : notFound('Room');
  }
  const { room, messages } = await deps.rooms.getRoomWithNewest(roomId, limit);
  if (!room) throw notFound('Room');
  return messages;
}

function readHistoryPosition([direction, seq, ...rest]: readonly unknown[]): { direction: 'a' | 'b'; seq: number } | undefined {
  return (direction === 'a' || direction === 'b') && isCount(seq) && rest.length === 0 ? { direction, seq } : undefined;
}

/**
 * One message with `readBy`: the members whose read mark has reached it (derived, never stored
 * per message), from their seats (one batch read of the room's member ids' seats).
 */
export async function getMessage(deps: Deps, actor: User, roomId: string, messageId: string): Promise<MessageView & { readBy: { userId: string; readAt?: string }[] }> {
  await requireMembership(deps, roomId, actor.userId);
  const m = await requireMessage(deps, roomId, messageId);
  const [view, seats] = await Promise.all([viewOf(deps, m, actor.userId), deps.rooms.listMemberIds(roomId).then((ids) => deps.rooms.getSeats(roomId, ids.filter((id) => id !== m.senderId)))]);
  const readBy = seats
    .filter((x) => x.lastReadSeq >= m.seq)
    .sort((a, b) => (a.userId < b.userId ? -1 : 1))
    .map((x) => ({ userId: x.userId, ...(x.lastReadAt && { readAt: x.lastReadAt }) }));
  return { ...view, readBy };
}

/**
 * What changed since `since` among messages a client already has: the current state of every
 * message edited, deleted or reacted to, in the order of the changes. `cursor` is the `since` of
 * the next call: with `hasMore`, the change this page ended at (the next page starts after it);
 * else the time of this read, a few seconds early, so that changes written by writers with slower
 * clocks are not missed (they may come twice).
 */
export async function listChanges(deps: Deps, actor: User, roomId: string, q: ChangesQuery): Promise<{ items: MessageView[]; cursor: string; hasMore: boolean }> {
  const scope: CursorScope = { list: 'changes', userId: actor.userId, params: [roomId] };
  const from = 'cursor' in q.since ? await openCursor(deps.cursorKey, scope, q.since.cursor, readChangesPosition, 'since') : { since: Date.parse(q.since.time) };
  if (!isEpochMs(from.since)) throw validationFailed('since must be an ISO time or a cursor', { issues: [{ path: 'since', message: 'not a time' }] });
  await requireMembership(deps, roomId, actor.userId);
  const floor = new Date(from.since - CHANGE_SKEW_MS).toISOString();
  const changes = await deps.messages.changesSince(roomId, floor, q.limit, from.after);
  const seqs = [...new Set(changes.map((c) => c.seq))];
  const records = new Map((await deps.messages.getMessages(roomId, seqs)).map((m) => [m.seq, m]));
  const views = new Map((await viewsOf(deps, roomId, [...records.values()], actor.userId)).map((v) => [v.seq, v]));
  const items = seqs.flatMap((s) => views.get(s) ?? []);
  const last = changes.at(-1);
  const hasMore = changes.length === q.limit && last !== undefined;
  const position: Position = hasMore
    ? [from.since, Date.parse(last.at), last.seq, last.kind]
    : [Math.max(from.since, deps.clock.now().getTime() - CHANGE_SKEW_MS)];
  return { items, cursor: await sealCursor(deps.cursorKey, scope, position), hasMore };
}

const CHANGE_KINDS: readonly string[] = ['edited', 'deleted', 'reactions'] satisfies ChangeRecord['kind'][];

/** `[since]`, or `[since, at, seq, kind]` in the middle of a catch-up: the change the last page ended at. */
function readChangesPosition(tuple: readonly unknown[]): { since: number; after?: Pick<ChangeRecord, 'at' | 'seq' | 'kind'> } | undefined {
  const [since, at, seq, kind, ...rest] = tuple;
  if (!isEpochMs(since) || rest.length > 0) return undefined;
  if (tuple.length === 1) return { since };
  if (!isEpochMs(at) || !isCount(seq) || typeof kind !== 'string' || !CHANGE_KINDS.includes(kind)) return undefined;
  return { since, after: { at: new Date(at).toISOString(), seq, kind: kind as ChangeRecord['kind'] } };
}

