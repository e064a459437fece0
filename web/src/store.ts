/**
 * The app's state, fed only by the SDK: its events (messages once and in order, updates, the
 * server's other frames), its outbox (`pending()`) and `client.api`. Components read a snapshot
 * and re-render on `subscribe`.
 */
import type { Member, Message, MyRoom, PresenceStatus, Room, ServerFrame } from '../../client/wire.ts';
import type { ParleyClient, ClientState } from './sdk.ts';
import { ATTACHMENT_LIMITS } from '../../shared/schemas/limits.ts';

export type { Member, Message, MyRoom, Room };

export interface Timeline {
  /** By seq, ascending; one entry per id. */
  messages: Message[];
  hasOlder: boolean;
  /** The server's cursor to the page before the oldest message loaded. */
  olderCursor?: string | undefined;
  loadingOlder: boolean;
  loaded: boolean;
}

/** An optimistic copy of a send the server has not stored yet. */
export interface PendingMessage {
  roomId: string;
  clientMessageId: string;
  status: 'queued' | 'sending' | 'failed';
  content: string;
  replyTo?: string;
  attachmentNames: string[];
  error?: string;
}

export interface Upload {
  id: string;
  roomId: string;
  name: string;
  /** 0..1, or undefined while the platform gives no progress. */
  progress?: number;
  error?: string;
}

export interface TypingEntry {
  displayName: string;
  until: number;
}

const PAGE = 30;
/** The server frames the app shows beyond messages. */
const FRAMES = ['user_typing', 'messages_read', 'presence_changed', 'user_joined', 'user_left', 'room_updated', 'room_archived'] as const;
const TYPING_TTL_MS = 5_000;
/** Reads of a message for its thumbnails: after 1.5, 3, 6 and 12 s. */
const THUMBNAIL_READS = 4;

export class ChatStore {
  me: { userId: string; displayName: string };
  state: ClientState = 'idle';
  online = typeof navigator === 'undefined' ? true : navigator.onLine;
  rooms = new Map<string, MyRoom>();
  timelines = new Map<string, Timeline>();
  pending: PendingMessage[] = [];
  uploads: Upload[] = [];
  members = new Map<string, Member[]>();
  presence = new Map<string, PresenceStatus | 'offline'>();
  myStatus: PresenceStatus = 'online';
  typing = new Map<string, Map<string, TypingEntry>>();
  /** roomId → userId → lastReadSeq, from the member list and `messages_read`. */
  readMarks = new Map<string, Map<string, number>>();
  currentRoomId: string | undefined;
  lastError: string | undefined;
  /** Bumped on every change; components compare it. */
  version = 0;

  private listeners = new Set<() => void>();
  /** The best name known for each user: a member added by id is listed under that id until they speak. */
  private names = new Map<string, string>();
  private drafts = new Map<string, Omit<PendingMessage, 'status' | 'clientMessageId' | 'roomId'>>();
  private roomsReload: ReturnType<typeof setTimeout> | undefined;
  private typingTimer: ReturnType<typeof setInterval> | undefined;
  private refreshTimer: ReturnType<typeof setTimeout> | undefined;
  private stopped = new AbortController();

  constructor(readonly client: ParleyClient, me: { userId: string; displayName: string }) {
    this.me = me;
  }

  subscribe(fn: () => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private changed() {
    this.version++;
    if (this.refreshTimer) return;
    // Events arrive in bursts (a catch-up delivers hundreds): render once per burst.
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      for (const fn of this.listeners) fn();
    }, 0);
  }

  fail(err: unknown) {
    this.lastError = err instanceof Error ? err.message : String(err);
    this.changed();
  }

  clearError() {
    this.lastError = undefined;
    this.changed();
  }

  async start(): Promise<void> {
    const c = this.client;
    c.on('state', (s) => {
      this.state = s;
      this.syncPending();
      // Back live after a reconnect: unread counts and previews as the server has them now.
      if (s === 'live') this.loadRooms().catch((e) => this.fail(e));
      this.changed();
    });
    c.on('message', (m) => this.onMessage(m));
    c.on('message_updated', (m) => this.upsert(m));
    c.on('outbox', () => this.syncPending());
    for (const type of FRAMES) c.on(type, (f) => this.onFrame(f));
    const signal = this.stopped.signal;
    addEventListener('online', () => ((this.online = true), this.changed()), { signal });
    addEventListener('offline', () => ((this.online = false), this.changed()), { signal });
    document.addEventListener('visibilitychange', () => this.markCurrentRead(), { signal });
    this.typingTimer = setInterval(() => this.expireTyping(), 1_000);
    this.syncPending();
    await Promise.all([c.connect(), this.loadRooms()]);
    this.state = c.state;
    this.changed();
  }

  async stop() {
    this.stopped.abort();
    clearInterval(this.typingTimer);
    await this.client.close();
  }

  learnName(userId: string, name: string | undefined) {
    if (name && name !== userId) this.names.set(userId, name);
  }

  nameOf(userId: string, fallback?: string): string {
    return this.names.get(userId) ?? fallback ?? userId;
  }

  // ---- rooms ----

  async loadRooms(): Promise<void> {
    const items: MyRoom[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.client.api.listRooms({ limit: 100, ...(cursor && { cursor }) });
      items.push(...page.items);
      cursor = page.nextCursor;
    } while (cursor);
    const fresh = new Map(items.map((r) => [r.room.id, r]));
    for (const [id, r] of fresh) {
      const known = this.rooms.get(id);
      // A list the server read before a message that has since arrived live must not take back
      // that message's preview and unread count (two reads of the list can also answer out of order).
      if (known?.lastMessage && known.lastMessage.seq > r.room.lastSeq) {
        r.lastMessage = known.lastMessage;
        r.unreadCount = known.unreadCount;
        r.lastReadSeq = Math.max(r.lastReadSeq, known.lastReadSeq);
      }
    }
    // Rooms the user has open keep their zero unread count while open.
    if (this.currentRoomId && fresh.has(this.currentRoomId)) fresh.get(this.currentRoomId)!.unreadCount = 0;
    this.rooms = fresh;
    this.changed();
    // Direct rooms show the other person's presence: learn who that is.
    await Promise.all(
      items
        .filter((r) => r.room.type === 'direct' && !this.members.has(r.room.id))
        .slice(0, 30)
        .map((r) => this.loadMembers(r.room.id).catch(() => undefined)),
    );
  }

  private reloadRoomsSoon() {
    clearTimeout(this.roomsReload);
    this.roomsReload = setTimeout(() => void this.loadRooms().catch((e) => this.fail(e)), 150);
  }

  roomList(): MyRoom[] {
    const activity = (r: MyRoom) => r.lastMessage?.createdAt ?? r.room.lastActivityAt ?? r.room.createdAt;
    return [...this.rooms.values()].sort((a, b) => activity(b).localeCompare(activity(a)));
  }

  /** The other member of a direct room. */
  peerOf(roomId: string): Member | undefined {
    return this.members.get(roomId)?.find((m) => m.userId !== this.me.userId);
  }

  /** Everyone met in any room: candidates for new rooms and invitations. */
  knownPeople(): { userId: string; displayName: string }[] {
    const people = new Map<string, string>();
    for (const list of this.members.values()) for (const m of list) if (m.userId !== this.me.userId) people.set(m.userId, this.nameOf(m.userId, m.displayName));
    return [...people].map(([userId, displayName]) => ({ userId, displayName })).sort((a, b) => a.displayName.localeCompare(b.displayName));
  }

  async openRoom(roomId: string | undefined) {
    this.currentRoomId = roomId;
    this.changed();
    if (!roomId) return;
    const room = this.rooms.get(roomId);
    if (room) room.unreadCount = 0;
    await Promise.all([
      this.timelines.get(roomId)?.loaded ? undefined : this.loadLatest(roomId),
      this.loadMembers(roomId),
      this.loadTyping(roomId),
    ]);
    this.markCurrentRead();
  }

  async createRoom(input: { type: 'direct' | 'group'; name?: string; memberIds: string[]; visibility?: 'private' | 'public' }) {
    const room = await this.client.api.createRoom(input);
    await this.loadRooms();
    return room;
  }

  async publicRooms(): Promise<Room[]> {
    return (await this.client.api.listPublicRooms({ limit: 50 })).items;
  }

  async joinRoom(roomId: string) {
    await this.client.api.joinRoom(roomId);
    await this.loadRooms();
  }

  // ---- members and presence ----

  async loadMembers(roomId: string) {
    const { items } = await this.client.api.listMembers(roomId);
    this.members.set(roomId, items);
    const marks = this.readMarks.get(roomId) ?? new Map<string, number>();
    const room = this.rooms.get(roomId);
    for (const m of items) {
      this.learnName(m.userId, m.displayName);
      if (room?.room.type === 'direct' && m.userId !== this.me.userId) this.learnName(m.userId, room.displayName);
      this.presence.set(m.userId, m.presence.status);
      marks.set(m.userId, Math.max(marks.get(m.userId) ?? 0, m.lastReadSeq));
    }
    this.readMarks.set(roomId, marks);
    const mine = items.find((m) => m.userId === this.me.userId);
    if (mine) {
      if (room) room.role = mine.role;
      if (mine.presence.status !== 'offline') this.myStatus = mine.presence.status;
    }
    this.changed();
  }

  myRole(roomId: string) {
    return this.rooms.get(roomId)?.role ?? 'member';
  }

  async addMember(roomId: string, userId: string) {
    await this.client.api.addMember(roomId, { userId });
    await this.loadMembers(roomId);
  }

  async setRole(roomId: string, userId: string, role: 'admin' | 'moderator' | 'member') {
    await this.client.api.setRole(roomId, userId, role);
    await this.loadMembers(roomId);
  }

  async removeMember(roomId: string, userId: string) {
    await this.client.api.removeMember(roomId, userId);
    if (userId === this.me.userId) {
      this.rooms.delete(roomId);
      if (this.currentRoomId === roomId) this.currentRoomId = undefined;
      this.changed();
    } else {
      await this.loadMembers(roomId);
    }
  }

  async archiveRoom(roomId: string) {
    await this.client.api.archiveRoom(roomId);
    await this.loadRooms();
  }

  /** Unread messages over all rooms but the one being read. */
  totalUnread(): number {
    let n = 0;
    for (const r of this.rooms.values()) n += r.unreadCount;
    return n;
  }

  async setStatus(status: PresenceStatus) {
    this.myStatus = status;
    this.presence.set(this.me.userId, status);
    this.changed();
    await this.client.api.setPresence(status);
  }

  // ---- messages ----

  timeline(roomId: string): Timeline {
    let t = this.timelines.get(roomId);
    if (!t) {
      t = { messages: [], hasOlder: true, loadingOlder: false, loaded: false };
      this.timelines.set(roomId, t);
    }
    return t;
  }

  private async loadLatest(roomId: string) {
    const page = await this.client.api.listMessages(roomId, { limit: PAGE });
    const t = this.timeline(roomId);
    for (const m of page.items) {
      this.insert(t, m);
      if (m.type !== 'system') this.learnName(m.senderId, m.sender.displayName);
    }
    t.hasOlder = Boolean(page.nextCursor);
    t.olderCursor = page.nextCursor;
    t.loaded = true;
    this.changed();
  }

  async loadOlder(roomId: string) {
    const t = this.timeline(roomId);
    const oldest = t.messages[0];
    if (t.loadingOlder || !t.hasOlder || !oldest) return;
    t.loadingOlder = true;
    this.changed();
    try {
      const page = await this.client.api.listMessages(roomId, t.olderCursor ? { limit: PAGE, cursor: t.olderCursor } : { limit: PAGE, beforeSeq: oldest.seq });
      for (const m of page.items) this.insert(t, m);
      t.hasOlder = Boolean(page.nextCursor);
      t.olderCursor = page.nextCursor;
    } finally {
      t.loadingOlder = false;
      this.changed();
    }
  }

  private insert(t: Timeline, m: Message): boolean {
    const list = t.messages;
    const at = list.findIndex((x) => x.id === m.id);
    if (at >= 0) {
      list[at] = m;
      return false;
    }
    let i = list.length;
    while (i > 0 && list[i - 1]!.seq > m.seq) i--;
    list.splice(i, 0, m);
    return true;
  }

  private onMessage(m: Message) {
    if (m.type !== 'system') this.learnName(m.senderId, m.sender.displayName);
    if (!this.rooms.has(m.roomId)) this.reloadRoomsSoon();
    const t = this.timeline(m.roomId);
    const isNew = this.insert(t, m);
    if (m.clientMessageId) this.pending = this.pending.filter((p) => p.clientMessageId !== m.clientMessageId);
    const room = this.rooms.get(m.roomId);
    if (room && isNew) {
      // The room list may have been read after this message was stored, while its live event was
      // still on the way: the server's unread count holds it already, so it is not counted twice.
      const listed = room.room.lastSeq >= m.seq;
      if (!room.lastMessage || room.lastMessage.seq <= m.seq) room.lastMessage = m;
      const reading = this.currentRoomId === m.roomId && document.visibilityState === 'visible';
      if (m.senderId === this.me.userId) {
        room.unreadCount = 0;
        room.lastReadSeq = Math.max(room.lastReadSeq, m.seq);
      } else if (!reading && !listed && m.seq > room.lastReadSeq) {
        room.unreadCount++;
      }
    }
    if (m.senderId === this.me.userId) this.noteRead(m.roomId, this.me.userId, m.seq);
    if (m.type === 'system') this.reloadMembersSoon(m.roomId);
    if (this.currentRoomId === m.roomId) this.markCurrentRead();
    this.scheduleThumbnail(m);
    this.changed();
  }

  private upsert(m: Message) {
    const t = this.timeline(m.roomId);
    const at = t.messages.findIndex((x) => x.id === m.id);
    if (at >= 0) t.messages[at] = m;
    const room = this.rooms.get(m.roomId);
    if (room?.lastMessage?.id === m.id) room.lastMessage = m;
    this.changed();
  }

  private memberReloads = new Map<string, ReturnType<typeof setTimeout>>();
  private reloadMembersSoon(roomId: string) {
    if (!this.members.has(roomId)) return;
    clearTimeout(this.memberReloads.get(roomId));
    this.memberReloads.set(roomId, setTimeout(() => void this.loadMembers(roomId).catch(() => undefined), 200));
  }

  /**
   * `message_new` usually comes before the thumbnail exists, and no event says when it does: read
   * the message again until it has one, waiting longer each time (a busy thumbnail function can
   * take well over the first wait), and give up after a few reads (an image may get none).
   */
  private scheduleThumbnail(m: Message, attempt = 0) {
    if (attempt >= THUMBNAIL_READS || !m.attachments.some((a) => a.contentType.startsWith('image/') && !a.thumbnailUrl)) return;
    setTimeout(async () => {
      if (this.stopped.signal.aborted) return;
      try {
        const fresh = await this.client.api.getMessage(m.roomId, m.id);
        this.upsert(fresh);
        this.scheduleThumbnail(fresh, attempt + 1);
      } catch {
        // The original image still shows.
      }
    }, 1_500 * 2 ** attempt);
  }

  send(roomId: string, input: { content: string; replyTo?: string; attachmentIds?: string[]; attachmentNames?: string[] }) {
    const out = this.client.send(roomId, {
      content: input.content,
      ...(input.replyTo && { replyTo: input.replyTo }),
      ...(input.attachmentIds?.length && { attachmentIds: input.attachmentIds }),
    });
    this.drafts.set(out.clientMessageId, { content: input.content, replyTo: input.replyTo, attachmentNames: input.attachmentNames ?? [] });
    this.syncPending();
    out.sent.then(
      (m: Message) => this.onMessage(m),
      () => this.syncPending(),
    );
  }

  /** The outbox as the SDK reports it, with the text the user typed. */
  syncPending() {
    const list = this.client.pending();
    this.pending = list.map((p) => {
      const draft = this.drafts.get(p.clientMessageId);
      const stored = p as { body?: { content?: string; replyTo?: string }; error?: { message?: string } };
      return {
        roomId: p.roomId,
        clientMessageId: p.clientMessageId,
        status: p.status,
        content: draft?.content ?? stored.body?.content ?? '',
        ...((draft?.replyTo ?? stored.body?.replyTo) && { replyTo: draft?.replyTo ?? stored.body?.replyTo }),
        attachmentNames: draft?.attachmentNames ?? [],
        ...(stored.error?.message && { error: stored.error.message }),
      };
    });
    this.changed();
  }

  pendingIn(roomId: string): PendingMessage[] {
    return this.pending.filter((p) => p.roomId === roomId);
  }

  retry(p: PendingMessage) {
    this.client.retry(p.clientMessageId);
    this.syncPending();
  }

  async discard(p: PendingMessage) {
    await this.client.discard(p.clientMessageId);
    this.syncPending();
  }

  async edit(roomId: string, messageId: string, content: string) {
    this.upsert(await this.client.api.editMessage(roomId, messageId, content));
  }

  async remove(roomId: string, messageId: string) {
    this.upsert(await this.client.api.deleteMessage(roomId, messageId));
  }

  async toggleReaction(m: Message, emoji: string) {
    const mine = m.reactions.find((r) => r.emoji === emoji)?.me;
    const fresh = mine
      ? await this.client.api.removeReaction(m.roomId, m.id, emoji)
      : await this.client.api.addReaction(m.roomId, m.id, emoji);
    this.upsert(fresh);
  }

  async upload(roomId: string, file: File): Promise<string | undefined> {
    const entry: Upload = { id: `${Date.now()}-${Math.random()}`, roomId, name: file.name };
    this.uploads = [...this.uploads, entry];
    this.changed();
    try {
      const size = file.type.startsWith('image/') ? await displayedSize(file) : undefined;
      const id = await this.client.upload(roomId, file, {
        ...size,
        onProgress: (fraction: number) => {
          entry.progress = fraction;
          this.uploads = [...this.uploads];
          this.changed();
        },
      });
      this.uploads = this.uploads.filter((u) => u !== entry);
      this.changed();
      return id;
    } catch (err) {
      entry.error = err instanceof Error ? err.message : String(err);
      this.uploads = [...this.uploads];
      this.changed();
      return undefined;
    }
  }

  dismissUpload(u: Upload) {
    this.uploads = this.uploads.filter((x) => x !== u);
    this.changed();
  }

  // ---- read marks, typing, other frames ----

  markCurrentRead() {
    const roomId = this.currentRoomId;
    if (!roomId || document.visibilityState !== 'visible') return;
    const last = this.timelines.get(roomId)?.messages.at(-1);
    const room = this.rooms.get(roomId);
    if (!last || !room) return;
    room.unreadCount = 0;
    if (last.seq <= room.lastReadSeq) return;
    room.lastReadSeq = last.seq;
    this.noteRead(roomId, this.me.userId, last.seq);
    this.client.markRead(roomId, last.id);
  }

  private noteRead(roomId: string, userId: string, seq: number) {
    const marks = this.readMarks.get(roomId) ?? new Map<string, number>();
    if ((marks.get(userId) ?? 0) < seq) marks.set(userId, seq);
    this.readMarks.set(roomId, marks);
  }

  /** Members other than me whose read mark reached `seq`. */
  seenBy(roomId: string, seq: number, senderId: string): string[] {
    const marks = this.readMarks.get(roomId);
    if (!marks) return [];
    return [...marks]
      .filter(([userId, s]) => userId !== senderId && userId !== this.me.userId && s >= seq)
      .map(([userId]) => this.nameOf(userId));
  }

  /** Who was typing before this page listened: the next refresh of theirs may be seconds away. */
  private async loadTyping(roomId: string) {
    const { items } = await this.client.api.listTyping(roomId);
    const entries = this.typing.get(roomId) ?? new Map<string, TypingEntry>();
    for (const t of items) {
      if (t.userId !== this.me.userId && !entries.has(t.userId)) entries.set(t.userId, { displayName: t.displayName, until: Date.parse(t.until) });
    }
    this.typing.set(roomId, entries);
    this.changed();
  }

  typingIn(roomId: string): string[] {
    const now = Date.now();
    return [...(this.typing.get(roomId)?.values() ?? [])].filter((t) => t.until > now).map((t) => t.displayName);
  }

  private expireTyping() {
    const now = Date.now();
    let changed = false;
    for (const entries of this.typing.values()) {
      for (const [id, t] of entries) {
        if (t.until <= now) {
          entries.delete(id);
          changed = true;
        }
      }
    }
    if (changed) this.changed();
  }

  private onFrame(f: ServerFrame) {
    switch (f.type) {
      case 'user_typing': {
        this.learnName(f.userId, f.displayName);
        const entries = this.typing.get(f.roomId) ?? new Map<string, TypingEntry>();
        if (f.isTyping) entries.set(f.userId, { displayName: f.displayName, until: Date.now() + TYPING_TTL_MS });
        else entries.delete(f.userId);
        this.typing.set(f.roomId, entries);
        break;
      }
      case 'messages_read':
        this.noteRead(f.roomId, f.userId, f.seq);
        break;
      case 'presence_changed':
        this.presence.set(f.userId, f.status as PresenceStatus | 'offline');
        break;
      case 'user_joined':
        this.learnName(f.userId, f.displayName);
        if (f.userId === this.me.userId) this.reloadRoomsSoon();
        this.reloadMembersSoon(f.roomId);
        break;
      case 'user_left':
        if (f.userId === this.me.userId) {
          this.rooms.delete(f.roomId);
          if (this.currentRoomId === f.roomId) this.currentRoomId = undefined;
        } else {
          this.reloadMembersSoon(f.roomId);
        }
        break;
      case 'room_updated':
      case 'room_archived':
        this.reloadRoomsSoon();
        break;
      default:
        return;
    }
    this.changed();
  }

  typingNow(roomId: string) {
    this.client.startTyping(roomId);
  }

  typingDone(roomId: string) {
    this.client.stopTyping(roomId);
  }

  async search(q: string, roomId?: string): Promise<Message[]> {
    const res = await this.client.api.search({ q, limit: 20, ...(roomId && { roomId }) });
    return res.items;
  }
}

/**
 * An image's size as it is displayed (EXIF orientation applied, as the browser shows it), sent
 * with the upload so every member's log gives it its box before it loads. Read from an image
 * element's natural size, which the browser takes from the file's header without decoding its
 * pixels (a full decode of a large photo costs width × height × 4 bytes at once). Undefined when
 * the browser cannot read it or a side is past the server's limit: the server measures it later.
 */
function displayedSize(file: Blob): Promise<{ width: number; height: number } | undefined> {
  const url = URL.createObjectURL(file);
  const img = new Image();
  return new Promise<{ width: number; height: number } | undefined>((resolve) => {
    img.onload = () => {
      const { naturalWidth: width, naturalHeight: height } = img;
      const max = ATTACHMENT_LIMITS.imageSideMax;
      resolve(width >= 1 && height >= 1 && width <= max && height <= max ? { width, height } : undefined);
    };
    img.onerror = () => resolve(undefined);
    img.src = url;
  }).finally(() => URL.revokeObjectURL(url));
}
