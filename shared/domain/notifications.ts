import { createHash } from 'node:crypto';
import type { MessageRecord, RoomRecord, User } from '#shared/model.ts';
import type { Deps } from '#shared/ports/runtime.ts';
import type { OutboundEvent } from '#shared/ports/events.ts';
import type { MemberLevels, NotificationState, NotifyLevel, NotifyPorts, PushPayload, PushSender, Recipient, RoomPreference } from '#shared/ports/notifications.ts';
import { validationFailed } from '#shared/errors.ts';
import { PUSH_LIMITS, type PushSubscriptionInput } from '#shared/schemas/notifications.ts';
import { requireMembership } from './access.ts';
import { listUnread } from './rooms.ts';
import { stableId } from './events.ts';
import { pushEndpointProblem } from './push-endpoints.ts';

export type NotifyDeps = Deps & NotifyPorts;
/** What the preference and subscription use-cases reach: their functions compose no more (no push sender, no bus). */
export type PreferenceDeps = Pick<NotifyDeps, 'rooms' | 'notifications' | 'clock'>;
export type Reason = 'direct' | 'mention' | 'message';

/** Everyone's level until they choose: direct rooms and mentions. */
export const DEFAULT_NOTIFY: NotifyLevel = 'mentions';

/** How long a push service keeps an undelivered notification: a chat message older than this is stale. */
export const PUSH_TTL_SECONDS = 12 * 60 * 60;

// ---- preferences ----

export async function getMyPreferences(deps: Pick<PreferenceDeps, 'notifications'>, actor: User): Promise<{ notify: NotifyLevel }> {
  return { notify: (await deps.notifications.getUserPreference(actor.userId)) ?? DEFAULT_NOTIFY };
}

export async function setMyPreferences(deps: Pick<PreferenceDeps, 'notifications' | 'clock'>, actor: User, notify: NotifyLevel): Promise<{ notify: NotifyLevel }> {
  await deps.notifications.setUserPreference(actor.userId, notify, deps.clock.now().toISOString());
  return { notify };
}

export interface RoomPreferencesView {
  roomId: string;
  /** My level for this room; absent: my default applies. */
  notify?: NotifyLevel;
  mutedUntil?: string;
  /** What applies now: `none` while muted, else the room's level, else my default. */
  effective: NotifyLevel;
}

function roomPreferencesView(roomId: string, pref: RoomPreference, userDefault: NotifyLevel | undefined, now: Date): RoomPreferencesView {
  return { roomId, ...pref, effective: effectiveLevel({ userId: '', room: pref, ...(userDefault && { notify: userDefault }) }, now) };
}

/** Members only: a room's preferences are mine, and only for rooms I am in. */
export async function getRoomPreferences(deps: PreferenceDeps, actor: User, roomId: string): Promise<RoomPreferencesView> {
  await requireMembership(deps, roomId, actor.userId);
  const [pref, userDefault] = await Promise.all([deps.notifications.getRoomPreference(actor.userId, roomId), deps.notifications.getUserPreference(actor.userId)]);
  return roomPreferencesView(roomId, pref, userDefault, deps.clock.now());
}

export async function setRoomPreferences(
  deps: PreferenceDeps,
  actor: User,
  roomId: string,
  patch: { notify?: NotifyLevel | null; mutedUntil?: string | null },
): Promise<RoomPreferencesView> {
  await requireMembership(deps, roomId, actor.userId);
  const now = deps.clock.now();
  const normalized = { ...patch, ...(typeof patch.mutedUntil === 'string' && { mutedUntil: new Date(patch.mutedUntil).toISOString() }) };
  const [pref, userDefault] = await Promise.all([
    deps.notifications.setRoomPreference(actor.userId, roomId, normalized, now.toISOString()),
    deps.notifications.getUserPreference(actor.userId),
  ]);
  return roomPreferencesView(roomId, pref, userDefault, now);
}

// ---- push subscriptions ----

export interface PushConfig {
  /** Local mode: http://127.0.0.1 endpoints are allowed (tests run their push service there). */
  allowLoopback: boolean;
}

export async function subscribePush(deps: Pick<PreferenceDeps, 'notifications' | 'clock'>, actor: User, input: PushSubscriptionInput, config: PushConfig): Promise<{ endpoint: string; createdAt: string }> {
  const problem = pushEndpointProblem(input.endpoint, config);
  if (problem) throw validationFailed(`Invalid endpoint: ${problem}`);
  const createdAt = deps.clock.now().toISOString();
  await deps.notifications.putSubscription(
    {
      userId: actor.userId,
      endpoint: input.endpoint,
      keys: { p256dh: input.keys.p256dh, auth: input.keys.auth },
      ...(typeof input.expirationTime === 'number' && { expirationTime: input.expirationTime }),
      createdAt,
    },
    PUSH_LIMITS.subscriptionsPerUser,
  );
  return { endpoint: input.endpoint, createdAt };
}

/** Idempotent: forgetting an endpoint that is not mine or not known changes nothing. */
export async function unsubscribePush(deps: Pick<PreferenceDeps, 'notifications'>, actor: User, endpoint: string): Promise<void> {
  await deps.notifications.deleteSubscription(actor.userId, endpoint);
}

export async function vapidPublicKey(deps: { push: Pick<PushSender, 'publicKey'> }): Promise<{ publicKey: string }> {
  return { publicKey: await deps.push.publicKey() };
}

// ---- who is notified ----

/** The level that applies to this user in this room now. */
export function effectiveLevel(r: Recipient, now: Date): NotifyLevel {
  if (r.room.mutedUntil && Date.parse(r.room.mutedUntil) > now.getTime()) return 'none';
  return r.room.notify ?? r.notify ?? DEFAULT_NOTIFY;
}

export function reasonFor(room: Pick<RoomRecord, 'type'>, m: Pick<MessageRecord, 'mentions'>, userId: string): Reason {
  if (room.type === 'direct') return 'direct';
  return m.mentions.includes(userId) ? 'mention' : 'message';
}

export function admits(level: NotifyLevel, reason: Reason): boolean {
  return level === 'all' || (level === 'mentions' && reason !== 'message');
}

/** What happens for one candidate: nothing (already handled), coalesced into a later one, or sent. */
export type Decision = { action: 'skip' } | { action: 'coalesce' } | { action: 'send'; count: number };

export function decide(state: NotificationState | undefined, seq: number, now: Date, coalesceSeconds: number): Decision {
  if (state && state.lastSeq >= seq) return { action: 'skip' };
  if (state?.sentAt && now.getTime() - Date.parse(state.sentAt) < coalesceSeconds * 1000) return { action: 'coalesce' };
  return { action: 'send', count: (state?.pending ?? 0) + 1 };
}

export interface NotificationOutcome {
  userId: string;
  action: 'coalesced' | 'sent';
  event?: OutboundEvent;
  pushes?: { sent: number; gone: number; failed: number };
}

/**
 * The notifications a new message asks for. Candidates: members other than the sender who have
 * not read past it, whose level admits it, and who have no open connection. At most one per user
 * and room per window; later ones are counted into the next.
 *
 * Cost: the members with their preference inputs, which member items carry as copies (one Query,
 * priced by the member items' size: 0.5 read units for ten), so levels cost no read of their own;
 * only members whose items were written before copies were kept have theirs read from the
 * preference items (one batch). The room is read only once someone is to be notified: a message
 * carries its room's type (one stored before messages did has its room read first). Under the
 * default level a group room's plain message then reads nothing more: presence is read only for
 * those a level admits. In a direct room whose member item has no copies (the default level
 * admits its every message), presence goes first, and the preference items are read only when
 * the other member is offline. The notification state and the read mark (the seat) are read for
 * those left only: a member who read the message already is a rare candidate, so their marks are
 * read last.
 *
 * Retries: the state is committed after the event and pushes went out, so a retry before the
 * commit re-sends the same event id (consumers drop it) and one after finds the seq handled.
 */
export async function notifyMessage(deps: NotifyDeps, m: MessageRecord): Promise<NotificationOutcome[]> {
  if (m.type === 'system' || m.deletedAt) return [];
  // A message that carries its room's type needs the room only once someone is to be notified
  // (the push's title, and whether the room was archived since).
  const roomRead = m.roomType === undefined ? deps.rooms.getRoom(m.roomId) : undefined;
  const [early, members] = await Promise.all([roomRead, deps.notifications.memberLevels(m.roomId)]);
  if (roomRead && (!early || early.archivedAt)) return [];
  const type = early?.type ?? m.roomType!;
  const others = members.filter((x) => x.userId !== m.senderId);
  if (others.length === 0) return [];

  const now = deps.clock.now();
  /** Those of `candidates` whose level admits the message, and why (a batch read only for items without copies). */
  const admitted = async (candidates: MemberLevels[]) =>
    (await deps.notifications.recipients(m.roomId, candidates))
      .map((r) => ({ userId: r.userId, reason: reasonFor({ type }, m, r.userId), level: effectiveLevel(r, now) }))
      .filter((c) => admits(c.level, c.reason));
  /** Those of `userIds` with no open connection: one batch read of presence. */
  const offline = async (userIds: string[]): Promise<Set<string>> => {
    if (userIds.length === 0) return new Set();
    const online = new Set((await deps.connections.connectionsOf(userIds)).map((c) => c.userId));
    return new Set(userIds.filter((u) => !online.has(u)));
  };
  // Levels first when they cost nothing (copies on every member item). Otherwise the filter that
  // rules out more is read for every candidate, the other only for who is left: the default level
  // admits every message of a direct room, but in a group room only mentions.
  const levelsRead = others.some((x) => !x.user || !x.room);
  let admittedAway: Awaited<ReturnType<typeof admitted>>;
  if (type === 'direct' && levelsRead) {
    const away = await offline(others.map((x) => x.userId));
    admittedAway = await admitted(others.filter((x) => away.has(x.userId)));
  } else {
    const byLevel = await admitted(others);
    const away = await offline(byLevel.map((c) => c.userId));
    admittedAway = byLevel.filter((c) => away.has(c.userId));
  }
  if (admittedAway.length === 0) return [];
  // The preferences batch may be a moment stale: the state a decision rests on is read consistently.
  const ids = admittedAway.map((c) => c.userId);
  const [room, states, seats] = await Promise.all([early ?? deps.rooms.getRoom(m.roomId), deps.notifications.states(m.roomId, ids), deps.rooms.getSeats(m.roomId, ids)]);
  if (!room || room.archivedAt) return [];
  const unread = new Set(seats.filter((s) => s.lastReadSeq < m.seq).map((s) => s.userId));
  const candidates = admittedAway.filter((c) => unread.has(c.userId));

  const at = now.toISOString();
  const outcomes: NotificationOutcome[] = [];
  for (const { userId, reason } of candidates) {
    const decision = decide(states.get(userId), m.seq, now, deps.notifySettings.coalesceSeconds);
    if (decision.action === 'skip') continue;
    if (decision.action === 'coalesce') {
      if (await deps.notifications.commit(userId, m.roomId, m.seq, false, at)) outcomes.push({ userId, action: 'coalesced' });
      continue;
    }
    const { total: unreadTotal } = await listUnread(deps, { userId, displayName: userId });
    const event: OutboundEvent = {
      id: stableId('notification', m.roomId, m.seq, userId),
      detailType: 'notification.requested',
      time: at,
      detail: { userId, roomId: m.roomId, messageId: m.id, seq: m.seq, reason, unreadTotal, count: decision.count },
    };
    await deps.events.publish([event]);
    const pushes = await pushTo(deps, userId, { roomId: m.roomId, messageId: m.id, seq: m.seq, reason, unreadTotal, count: decision.count, ...pushText(room, m, reason, decision.count) });
    await deps.notifications.commit(userId, m.roomId, m.seq, true, at);
    outcomes.push({ userId, action: 'sent', event, pushes });
  }
  return outcomes;
}

const EXCERPT = 140;

/** What the browser shows: the room (or the sender, in a direct room) and the message's first words. */
export function pushText(room: Pick<RoomRecord, 'type' | 'name'>, m: Pick<MessageRecord, 'senderName' | 'content' | 'attachments'>, reason: Reason, count: number): { title: string; body: string } {
  const text = m.content.replace(/<@([^>\s]{1,128})>/g, '@$1').trim() || (m.attachments?.length ? 'sent a file' : '');
  const excerpt = text.length > EXCERPT ? `${text.slice(0, EXCERPT - 1)}…` : text;
  const title = room.type === 'direct' ? m.senderName : reason === 'mention' ? `${m.senderName} mentioned you in ${room.name ?? 'a room'}` : (room.name ?? 'New message');
  const body = room.type === 'direct' ? excerpt : `${m.senderName}: ${excerpt}`;
  return { title, body: count > 1 ? `${body} (+${count - 1} more)` : body };
}

/** A topic per room: a push service replaces an undelivered notification of the room by the newer one. */
const topicOf = (roomId: string) => createHash('sha256').update(roomId).digest('base64url').slice(0, 32);

async function pushTo(deps: NotifyDeps, userId: string, payload: PushPayload): Promise<{ sent: number; gone: number; failed: number }> {
  const subs = await deps.notifications.listSubscriptions(userId);
  const tally = { sent: 0, gone: 0, failed: 0 };
  await Promise.all(
    subs.map(async (sub) => {
      const outcome = await deps.push.send(sub, payload, {
        ttlSeconds: PUSH_TTL_SECONDS,
        urgency: payload.reason === 'message' ? 'normal' : 'high',
        topic: topicOf(payload.roomId),
      });
      tally[outcome]++;
      if (outcome === 'gone') await deps.notifications.deleteSubscription(userId, sub.endpoint);
    }),
  );
  return tally;
}
