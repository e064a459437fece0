import type { MyPreferences, NotifyLevel, PushSubscribed, PushSubscriptionInput, RoomPreferences, RoomPreferencesInput, AddMemberInput, AttachmentInput, Changes, ChangesQuery, CreateRoomInput, HistoryQuery, ListQuery, Me, Member, MemberRecord, Message, MessageWithReadBy, MyRoom, Page, Presence, PresenceList, PresenceStatus, PublicRooms, ReactionResult, ReadResult, Role, Room, SearchQuery, SearchResult, SendMessageBody, Typing, Unread, UpdateRoomInput, UploadTicket } from './wire.ts';

/** An error the server answered with (or `network` when it could not be reached). */
export class ParleyError extends Error {
  /** `unauthorized`, `forbidden`, `not_found`, `validation_failed`, `conflict`, `payload_too_large`, `rate_limited`, `unavailable`, `network`… */
  readonly code: string;
  /** HTTP status; 0 when the request never got an answer. */
  readonly status: number;
  readonly details?: unknown;
  /** Seconds to wait before trying again (`rate_limited`, `unavailable`). */
  readonly retryAfter?: number;
  constructor(code: string, message: string, status = 0, details?: unknown, retryAfter?: number) {
    super(message);
    this.name = 'ParleyError';
    this.code = code;
    this.status = status;
    if (details !== undefined) this.details = details;
    if (retryAfter !== undefined) this.retryAfter = retryAfter;
  }
  /** True when sending the same request again may succeed (network, 5xx, rate limits). */
  get retryable(): boolean {
    return this.status === 0 || this.status === 429 || this.status >= 500;
  }
}

type Query = Record<string, string | number | undefined>;

/** What the API needs from the client: where, with which token, and how to fetch. */
export interface ApiTransport {
  httpUrl: string;
  token(fresh?: boolean): Promise<string>;
  fetch: typeof fetch;
  /** A request with no answer after this long fails as `network` (and is retried where the SDK retries). */
  timeoutMs?: number;
}

const seg = encodeURIComponent;

/**
 * Every HTTP route of the API, typed. Each method is one request; a 401 asks `getToken()` for a
 * fresh token and tries once more.
 */
export class ParleyApi {
  #t: ApiTransport;
  /** @internal */
  constructor(transport: ApiTransport) {
    this.#t = transport;
  }

  /** One request: JSON in, JSON out, a {@link ParleyError} for anything but 2xx. */
  async request<T>(method: string, path: string, opts: { query?: object; body?: unknown; auth?: boolean } = {}): Promise<T> {
    const url = new URL(path.slice(1), this.#t.httpUrl.endsWith('/') ? this.#t.httpUrl : `${this.#t.httpUrl}/`);
    for (const [k, v] of Object.entries((opts.query ?? {}) as Query)) if (v !== undefined) url.searchParams.set(k, String(v));
    for (let attempt = 0; ; attempt++) {
      const headers: Record<string, string> = {};
      if (opts.auth !== false) headers.authorization = `Bearer ${await this.#t.token(attempt > 0)}`;
      if (opts.body !== undefined) headers['content-type'] = 'application/json';
      let res: Response;
      try {
        res = await this.#t.fetch(url, {
          method,
          headers,
          ...(opts.body !== undefined && { body: JSON.stringify(opts.body) }),
          // An overloaded server or a dead link can leave a request unanswered: an outbox waiting on it would stall.
          signal: AbortSignal.timeout(this.#t.timeoutMs ?? 30_000),
        });
      } catch (err) {
        throw new ParleyError('network', `${method} ${path}: ${(err as Error)?.message ?? err}`);
      }
      if (res.status === 401 && attempt === 0 && opts.auth !== false) continue;
      let text: string;
      try {
        text = await res.text();
      } catch (err) {
        throw new ParleyError('network', `${method} ${path}: ${(err as Error)?.message ?? err}`);
      }
      let json: any;
      try {
        json = text ? JSON.parse(text) : undefined;
      } catch {
        json = undefined;
      }
      if (res.ok) return json as T;
      const e = json?.error ?? { code: res.status === 401 ? 'unauthorized' : 'http_' + res.status, message: json?.message ?? text };
      const after = Number(res.headers.get('retry-after'));
      throw new ParleyError(e.code, e.message, res.status, e.details, after > 0 ? after : undefined);
    }
  }

  health(): Promise<{ status: 'ok' }> {
    return this.request('GET', '/health', { auth: false });
  }
  me(): Promise<Me> {
    return this.request('GET', '/me');
  }
  listRooms(query: ListQuery = {}): Promise<Page<MyRoom>> {
    return this.request('GET', '/rooms', { query });
  }
  /** `direct` with one other user returns the existing room when there is one. */
  createRoom(body: CreateRoomInput): Promise<Room> {
    return this.request('POST', '/rooms', { body });
  }
  listPublicRooms(query: ListQuery = {}): Promise<PublicRooms> {
    return this.request('GET', '/rooms/public', { query });
  }
  getRoom(roomId: string): Promise<Room> {
    return this.request('GET', `/rooms/${seg(roomId)}`);
  }
  updateRoom(roomId: string, patch: UpdateRoomInput): Promise<Room> {
    return this.request('PATCH', `/rooms/${seg(roomId)}`, { body: patch });
  }
  archiveRoom(roomId: string): Promise<Room> {
    return this.request('DELETE', `/rooms/${seg(roomId)}`);
  }
  joinRoom(roomId: string): Promise<Room> {
    return this.request('POST', `/rooms/${seg(roomId)}/join`);
  }
  listMembers(roomId: string): Promise<{ items: Member[] }> {
    return this.request('GET', `/rooms/${seg(roomId)}/members`);
  }
  addMember(roomId: string, body: AddMemberInput): Promise<MemberRecord> {
    return this.request('POST', `/rooms/${seg(roomId)}/members`, { body });
  }
  setRole(roomId: string, userId: string, role: Role): Promise<MemberRecord> {
    return this.request('PATCH', `/rooms/${seg(roomId)}/members/${seg(userId)}`, { body: { role } });
  }
  /** Removes a member (admin or moderator), or leaves the room when `userId` is mine. */
  removeMember(roomId: string, userId: string): Promise<void> {
    return this.request('DELETE', `/rooms/${seg(roomId)}/members/${seg(userId)}`);
  }
  /**
   * Newest first; `afterSeq` gives oldest first from there (catch-up), `beforeSeq` an older page.
   * The next page: `{ cursor: page.nextCursor }` (alone: it keeps the direction; another user's, or another room's, is refused).
   */
  listMessages(roomId: string, query: HistoryQuery = {}): Promise<Page<Message>> {
    return this.request('GET', `/rooms/${seg(roomId)}/messages`, { query });
  }
  /** A plain HTTP send; `client.send()` adds the outbox, retries and ordering on top. */
  sendMessage(roomId: string, body: SendMessageBody): Promise<Message> {
    return this.request('POST', `/rooms/${seg(roomId)}/messages`, { body });
  }
  getMessage(roomId: string, messageId: string): Promise<MessageWithReadBy> {
    return this.request('GET', `/rooms/${seg(roomId)}/messages/${seg(messageId)}`);
  }
  editMessage(roomId: string, messageId: string, content: string): Promise<Message> {
    return this.request('PATCH', `/rooms/${seg(roomId)}/messages/${seg(messageId)}`, { body: { content } });
  }
  deleteMessage(roomId: string, messageId: string): Promise<Message> {
    return this.request('DELETE', `/rooms/${seg(roomId)}/messages/${seg(messageId)}`);
  }
  addReaction(roomId: string, messageId: string, emoji: string): Promise<ReactionResult> {
    return this.request('PUT', `/rooms/${seg(roomId)}/messages/${seg(messageId)}/reactions/${seg(emoji)}`);
  }
  removeReaction(roomId: string, messageId: string, emoji: string): Promise<ReactionResult> {
    return this.request('DELETE', `/rooms/${seg(roomId)}/messages/${seg(messageId)}/reactions/${seg(emoji)}`);
  }
  /** Everything up to and including `messageId` is read. `client.markRead()` batches these. */
  markRead(roomId: string, messageId: string): Promise<ReadResult> {
    return this.request('POST', `/rooms/${seg(roomId)}/read`, { body: { messageId } });
  }
  /**
   * The current state of every message edited, deleted or re-reacted since `since`: an ISO time, or
   * the `cursor` the previous call returned (call again at once while `hasMore`).
   */
  listChanges(roomId: string, query: ChangesQuery): Promise<Changes> {
    return this.request('GET', `/rooms/${seg(roomId)}/changes`, { query });
  }
  unread(): Promise<Unread> {
    return this.request('GET', '/unread');
  }
  listTyping(roomId: string): Promise<Typing> {
    return this.request('GET', `/rooms/${seg(roomId)}/typing`);
  }
  getPresence(userIds: string[]): Promise<PresenceList> {
    return this.request('GET', '/presence', { query: { userIds: userIds.join(',') } });
  }
  setPresence(status: PresenceStatus): Promise<Presence> {
    return this.request('PUT', '/me/presence', { body: { status } });
  }
  /** An upload slot; `client.upload()` also sends the file. */
  createAttachment(roomId: string, body: AttachmentInput): Promise<UploadTicket> {
    return this.request('POST', `/rooms/${seg(roomId)}/attachments`, { body });
  }
  search(query: SearchQuery): Promise<SearchResult> {
    return this.request('GET', '/search', { query });
  }
  /** My default notification level (`mentions` until I choose). */
  getPreferences(): Promise<MyPreferences> {
    return this.request('GET', '/me/preferences');
  }
  setPreferences(notify: NotifyLevel): Promise<MyPreferences> {
    return this.request('PUT', '/me/preferences', { body: { notify } });
  }
  /** My level and mute for the room, and what applies now (`effective`). */
  getRoomPreferences(roomId: string): Promise<RoomPreferences> {
    return this.request('GET', `/rooms/${seg(roomId)}/preferences`);
  }
  setRoomPreferences(roomId: string, body: RoomPreferencesInput): Promise<RoomPreferences> {
    return this.request('PUT', `/rooms/${seg(roomId)}/preferences`, { body });
  }
  /** The `applicationServerKey` for `pushManager.subscribe()`. */
  vapidKey(): Promise<{ publicKey: string }> {
    return this.request('GET', '/push/vapid-key');
  }
  /** Sends this browser's push subscription (`subscription.toJSON()`). */
  subscribePush(subscription: PushSubscriptionInput): Promise<PushSubscribed> {
    return this.request('PUT', '/me/push-subscriptions', { body: subscription });
  }
  unsubscribePush(endpoint: string): Promise<void> {
    return this.request('DELETE', '/me/push-subscriptions', { query: { endpoint } });
  }
}
