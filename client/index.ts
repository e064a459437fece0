/**
 * Parley's client SDK: one connection per device, every message of every room once and in order
 * (gap detection, catch-up, dedup), an outbox that survives reconnects and reloads, and the whole
 * HTTP API typed. No runtime dependencies; browsers and Node ≥ 20 (pass `ws` as `WebSocket`).
 *
 * @example
 * const client = new ParleyClient({ httpUrl, wsUrl, getToken: async () => jwt });
 * client.on('message', (m) => render(m));
 * await client.connect();
 * const out = client.send(roomId, { content: 'hi' });
 * await out.sent;
 */
import { ParleyApi, ParleyError } from './api.ts';
import { backoffDelay, tokenClaims } from './backoff.ts';
import { Outbox, type OutboxEntry, type SendInput } from './outbox.ts';
import { RoomStream } from './room-stream.ts';
import { indexedDbStorage, memoryStorage, type ParleyStorage } from './storage.ts';
import type { Changes, Message, MyRoom, ServerFrame } from './wire.ts';

export { ParleyApi, ParleyError, backoffDelay, memoryStorage, indexedDbStorage, RoomStream };
export type { ParleyStorage, OutboxEntry, SendInput };
export type * from './wire.ts';

/** `idle` → `connecting` → `catching_up` → `live`; `reconnecting` between sockets; `closed` and `unauthorized` end. */
export type ClientState = 'idle' | 'connecting' | 'catching_up' | 'live' | 'reconnecting' | 'closed' | 'unauthorized';

/** What the SDK needs of a WebSocket: the browser's, Node 22's global one, or the `ws` package's. */
export interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((ev: any) => void) | null;
  onmessage: ((ev: any) => void) | null;
  onclose: ((ev: any) => void) | null;
  onerror: ((ev: any) => void) | null;
}
export type SocketConstructor = new (url: string) => SocketLike;

export interface ParleyClientOptions {
  /** The HTTP API, e.g. `http://127.0.0.1:3000/`. */
  httpUrl: string;
  /** The WebSocket API, e.g. `ws://127.0.0.1:3001/`. */
  wsUrl: string;
  /** A current JWT; called before every connect and again when the token nears its `exp`. */
  getToken: () => string | Promise<string>;
  /** The global WebSocket by default; pass `ws`'s on Node 20. */
  WebSocket?: SocketConstructor;
  /** Outbox and watermarks; IndexedDB in browsers, memory elsewhere. */
  storage?: ParleyStorage;
  /** The global fetch by default. */
  fetch?: typeof fetch;
  /** Reconnect backoff: base 500 ms doubling to a 30 s cap, full jitter after the cap. */
  backoff?: { baseMs?: number; capMs?: number };
  /** An HTTP request with no answer after this long fails as `network` (default 30 s). */
  requestTimeoutMs?: number;
  /** A socket not open after this long is abandoned and retried (default 15 s): a handshake can hang too. */
  connectTimeoutMs?: number;
  /** A `ping` this often (default 30 s); no frame at all for two intervals means the socket is dead. */
  pingIntervalMs?: number;
  /** Compare watermarks with `GET /rooms` this often while live (default 60 s). */
  recheckIntervalMs?: number;
  /** How long a hole the server cannot fill is waited on before it is reported (`gap`) and skipped (default 15 s). */
  holeTimeoutMs?: number;
  /** Reconnect with a fresh token this long before `exp` (default 60 s, at most half the token's life). */
  tokenRefreshMarginMs?: number;
  /** `markRead()` calls within this window become one request per room (default 500 ms). */
  markReadDelayMs?: number;
  /** Messages kept to apply reactions and deletes to (default 1,000); older ones are fetched when needed. */
  cacheSize?: number;
  /** For tests: the random source of the backoff jitter. */
  random?: () => number;
}

/** A hole the server never filled: the seqs were taken by sends that failed before storing. */
export interface GapEvent {
  roomId: string;
  fromSeq: number;
  toSeq: number;
}

type FrameEvents = { [K in ServerFrame['type']]: Extract<ServerFrame, { type: K }> };

/** Every event: the SDK's own, and every server frame under its `type`. */
export interface ParleyEvents extends FrameEvents {
  state: ClientState;
  /** Each message of each room once, in seq order per room, live or caught up. */
  message: Message;
  /** The current state of a message already delivered: edit, delete, reactions (also those missed while away). */
  message_updated: Message;
  /** An outbox entry changed status (`queued`, `sending`, `sent`, `failed`). */
  outbox: OutboxEntry;
  gap: GapEvent;
  /** Something went wrong in the background (a catch-up request, a read mark); the client carries on. */
  client_error: ParleyError;
}

/** What `send()` returns. */
export interface OutgoingMessage {
  clientMessageId: string;
  /** The stored message; rejects with a {@link ParleyError} if the server refused it for good. */
  sent: Promise<Message>;
}

const TERMINAL: ClientState[] = ['closed', 'unauthorized'];
const TYPING_THROTTLE_MS = 3_000;
const TYPING_AUTO_STOP_MS = 5_000;
const FETCH_PAGE = 100;
const PARALLEL_ROOMS = 4;

/** The Parley client. See docs/client.md. */
export class ParleyClient {
  /** Every HTTP route, typed. */
  readonly api: ParleyApi;
  state: ClientState = 'idle';
  /** My user id, once known (from the token). */
  userId: string | undefined;

  #o: Required<Omit<ParleyClientOptions, 'storage' | 'WebSocket' | 'backoff'>> & { backoff: { baseMs: number; capMs: number } };
  #WS: SocketConstructor | undefined;
  #storage: ParleyStorage;
  #listeners = new Map<string, Set<(v: any) => void>>();
  #token: string | undefined;
  #ready: Promise<string> | undefined;
  #ws: SocketLike | undefined;
  #gen = 0;
  #attempt = 0;
  #timers = new Map<string, ReturnType<typeof setTimeout>>();
  #heartbeat: ReturnType<typeof setInterval> | undefined;
  #recheck: ReturnType<typeof setInterval> | undefined;
  #lastFrameAt = 0;
  #pingAt = 0;
  #serverTime: string | undefined;
  #streams = new Map<string, RoomStream<Message>>();
  /** Per room: where `/changes` goes on from (the server's cursor, or a time). */
  #cursors = new Map<string, string>();
  /** Per room: a time at or before that cursor, to start again from should the server refuse the cursor. */
  #cursorTimes = new Map<string, string>();
  #filling = new Map<string, Promise<void>>();
  #refill = new Set<string>();
  #dirty = new Set<string>();
  #cache = new Map<string, Message>();
  #reads = new Map<string, string>();
  #typing = new Map<string, number>();
  #outbox: Outbox;
  #unhook: (() => void) | undefined;
  #started = false;

  constructor(options: ParleyClientOptions) {
    const g = globalThis as any;
    this.#o = {
      pingIntervalMs: 30_000,
      connectTimeoutMs: 15_000,
      requestTimeoutMs: 30_000,
      recheckIntervalMs: 60_000,
      holeTimeoutMs: 15_000,
      tokenRefreshMarginMs: 60_000,
      markReadDelayMs: 500,
      cacheSize: 1_000,
      random: Math.random,
      fetch: (...a: Parameters<typeof fetch>) => g.fetch(...a),
      ...options,
      backoff: { baseMs: 500, capMs: 30_000, ...options.backoff },
    };
    this.#WS = options.WebSocket ?? g.WebSocket;
    this.#storage = options.storage ?? (g.indexedDB ? indexedDbStorage() : memoryStorage());
    this.api = new ParleyApi({ httpUrl: options.httpUrl, fetch: this.#o.fetch, timeoutMs: this.#o.requestTimeoutMs, token: (fresh) => this.#getToken(!!fresh) });
    this.#outbox = new Outbox(
      this.#storage,
      async (id) => (await this.#prefix()) + 'o:' + id,
      (e) => this.api.sendMessage(e.roomId, { ...e.body, clientMessageId: e.clientMessageId }).then((m) => (this.#incoming(m), m)),
      (e) => this.#emit('outbox', { ...e }),
      this.#o.backoff,
      this.#o.random,
    );
  }

  /** Listens; returns the function that stops listening. */
  on<K extends keyof ParleyEvents>(event: K, listener: (value: ParleyEvents[K]) => void): () => void {
    let set = this.#listeners.get(event);
    if (!set) this.#listeners.set(event, (set = new Set()));
    set.add(listener);
    return () => this.off(event, listener);
  }

  off<K extends keyof ParleyEvents>(event: K, listener: (value: ParleyEvents[K]) => void): void {
    const set = this.#listeners.get(event);
    set?.delete(listener);
    if (set?.size === 0) this.#listeners.delete(event);
  }

  /** How many listeners are registered (all events): a leak check for apps and tests. */
  listenerCount(): number {
    let n = 0;
    for (const s of this.#listeners.values()) n += s.size;
    return n;
  }

  #emit<K extends keyof ParleyEvents>(event: K, value: ParleyEvents[K]): void {
    for (const l of [...(this.#listeners.get(event) ?? [])]) {
      try {
        l(value);
      } catch (err) {
        // A listener's bug must not stop delivery to the others nor the client itself.
        setTimeout(() => {
          throw err;
        });
      }
    }
  }

  #setState(s: ClientState): void {
    if (this.state === s || TERMINAL.includes(this.state)) return;
    this.state = s;
    this.#emit('state', s);
  }

  /** Connects, catches up every room, and resolves once live. Rejects if the client ends `unauthorized` or `closed` first. */
  connect(): Promise<void> {
    if (TERMINAL.includes(this.state)) return Promise.reject(new ParleyError(this.state, `The client is ${this.state}`));
    if (!this.#WS) return Promise.reject(new ParleyError('no_websocket', 'No WebSocket here: pass one (e.g. `ws` on Node 20) as the WebSocket option'));
    const live = this.#untilLive();
    if (!this.#started) {
      this.#started = true;
      void this.#start();
    }
    return live;
  }

  #untilLive(): Promise<void> {
    if (this.state === 'live') return Promise.resolve();
    return new Promise((resolve, reject) => {
      const off = this.on('state', (s) => {
        if (s === 'live') resolve();
        else if (TERMINAL.includes(s)) reject(new ParleyError(s, `The client is ${s}`, s === 'unauthorized' ? 401 : 0));
        else return;
        off();
      });
    });
  }

  async #start(): Promise<void> {
    this.#setState('connecting');
    try {
      const prefix = await this.#prefix();
      const keys = await this.#storage.keys();
      const saved: OutboxEntry[] = [];
      await Promise.all(
        keys.map(async (k) => {
          if (!k.startsWith(prefix)) return;
          const v = (await this.#storage.get(k)) as any;
          const rest = k.slice(prefix.length);
          if (rest.startsWith('o:') && v) saved.push(v);
          if (rest.startsWith('w:') && v && !this.#streams.has(rest.slice(2))) {
            this.#streams.set(rest.slice(2), new RoomStream(v.s));
            if (v.c) this.#cursors.set(rest.slice(2), v.c);
            // Watermarks saved by older versions hold a time as the cursor.
            if (v.t ?? v.c) this.#cursorTimes.set(rest.slice(2), v.t ?? v.c);
          }
        }),
      );
      this.#outbox.load(saved);
    } catch (err) {
      // Without a first token nothing can start; a throwing getToken() is a sign-in problem.
      this.#emit('client_error', asError(err));
      return this.#fail();
    }
    this.#hook();
    this.#outbox.enabled = true;
    this.#outbox.kick();
    // The token #prefix() just asked for is fresh: the first socket uses it.
    void this.#open(false);
  }

  /** `parley:<user>:` — storage is per user, so two accounts on one device never mix outboxes. */
  #prefix(): Promise<string> {
    return (this.#ready ??= this.#getToken(false).then((t) => {
      this.userId = tokenClaims(t).sub;
      return `parley:${this.userId ?? ''}:`;
    }));
  }

  async #getToken(fresh: boolean): Promise<string> {
    const exp = this.#token ? tokenClaims(this.#token).exp : undefined;
    if (fresh || !this.#token || (exp && exp * 1000 < Date.now() + 5_000)) this.#token = await this.#o.getToken();
    return this.#token;
  }

  #timer(name: string, ms: number, fn: () => void): void {
    clearTimeout(this.#timers.get(name));
    this.#timers.set(
      name,
      setTimeout(() => {
        this.#timers.delete(name);
        fn();
      }, ms),
    );
  }

  async #open(fresh = true): Promise<void> {
    const gen = ++this.#gen;
    let token: string;
    try {
      token = await this.#getToken(fresh);
    } catch (err) {
      this.#emit('client_error', asError(err));
      return this.#retry();
    }
    if (gen !== this.#gen || TERMINAL.includes(this.state)) return;
    const url = new URL(this.#o.wsUrl);
    url.searchParams.set('token', token);
    const ws = new this.#WS!(url.toString());
    this.#ws = ws;
    let opened = false;
    this.#timer('open', this.#o.connectTimeoutMs, () => this.#drop(ws));
    ws.onopen = () => {
      opened = true;
      clearTimeout(this.#timers.get('open'));
      this.#onOpen(ws, gen, token);
    };
    ws.onmessage = (ev) => this.#onFrame(ws, ev.data);
    ws.onerror = () => undefined;
    ws.onclose = () => this.#onClose(ws, opened);
  }

  #onOpen(ws: SocketLike, gen: number, token: string): void {
    this.#lastFrameAt = Date.now();
    this.#pingAt = 0;
    clearInterval(this.#heartbeat);
    this.#heartbeat = setInterval(() => this.#beat(ws), this.#o.pingIntervalMs);
    const exp = tokenClaims(token).exp;
    if (exp) {
      const life = exp * 1000 - Date.now();
      // A fresh token can only ride on a new socket (`?token=`): reconnect before this one expires.
      this.#timer('refresh', Math.max(1_000, life - Math.min(this.#o.tokenRefreshMarginMs, life / 2)), () => this.#drop(ws, 0));
    }
    this.#setState('catching_up');
    this.#catchUpOn(ws, gen);
  }

  /**
   * Catches up on a fresh socket, then goes live. A failed catch-up (the HTTP API slow or down)
   * is tried again on the same socket after a backoff: dropping a healthy socket would add a
   * disconnect and a connect to an API that is already struggling.
   */
  #catchUpOn(ws: SocketLike, gen: number): void {
    this.#catchUp(true).then(
      () => {
        if (gen !== this.#gen || ws !== this.#ws) return;
        this.#attempt = 0;
        this.#setState('live');
        // Back online: sends waiting out a network backoff go now.
        this.#outbox.kick(undefined, true);
      },
      (err) => {
        this.#emit('client_error', asError(err));
        if (gen !== this.#gen || ws !== this.#ws) return;
        // The API already asked getToken() once more: the user is signed out.
        if (err instanceof ParleyError && err.status === 401) return this.#fail();
        this.#timer('catchup', backoffDelay(this.#attempt++, this.#o.backoff, this.#o.random), () => this.#catchUpOn(ws, gen));
      },
    );
  }

  #beat(ws: SocketLike): void {
    // No frame since the last ping (a pong at least): the socket is half-open.
    if (this.#pingAt && this.#lastFrameAt < this.#pingAt) return this.#drop(ws);
    this.#pingAt = Date.now();
    this.#sendFrame({ type: 'ping' });
  }

  /** Leaves a socket without waiting for its close event (a half-open one may never send it). */
  #drop(ws: SocketLike, delay?: number): void {
    ws.onclose = ws.onmessage = ws.onopen = null;
    try {
      ws.close(1000);
    } catch {
      // Closing a socket still connecting may throw; it is being abandoned either way.
    }
    void this.#onClose(ws, true, delay);
  }

  async #onClose(ws: SocketLike, opened: boolean, delay?: number): Promise<void> {
    if (ws !== this.#ws) return;
    this.#ws = undefined;
    clearInterval(this.#heartbeat);
    for (const t of ['refresh', 'open', 'catchup']) clearTimeout(this.#timers.get(t));
    if (TERMINAL.includes(this.state)) return;
    this.#setState('reconnecting');
    if (!opened) {
      // A refused upgrade looks like any failed connection in a browser: ask for a fresh token
      // once and check it over HTTP. Refused again → unauthorized, and no more tries.
      const gen = this.#gen;
      try {
        await this.api.request('GET', '/me');
      } catch (err) {
        if (err instanceof ParleyError && err.status === 401) return this.#fail();
      }
      if (gen !== this.#gen) return;
    }
    this.#retry(delay);
  }

  #retry(delay = backoffDelay(this.#attempt++, this.#o.backoff, this.#o.random)): void {
    if (TERMINAL.includes(this.state)) return;
    this.#setState('reconnecting');
    this.#timer('reconnect', delay, () => void this.#open());
  }

  #fail(): void {
    this.#setState('unauthorized');
    this.#teardown();
  }

  #hook(): void {
    const g = globalThis as any;
    const online = () => {
      if (this.state === 'reconnecting') {
        this.#attempt = 0;
        this.#retry(0);
      } else this.#check();
      this.#outbox.kick(undefined, true);
    };
    const visible = () => {
      if (g.document?.visibilityState === 'visible') this.#check();
    };
    g.addEventListener?.('online', online);
    g.document?.addEventListener?.('visibilitychange', visible);
    this.#recheck = setInterval(() => this.#check(), this.#o.recheckIntervalMs);
    this.#unhook = () => {
      g.removeEventListener?.('online', online);
      g.document?.removeEventListener?.('visibilitychange', visible);
      clearInterval(this.#recheck);
    };
  }

  /** Compares every room's watermark with the server's and fetches what a live socket missed. */
  #check(): void {
    if (this.state === 'live') this.#catchUp(false).catch((err) => this.#emit('client_error', asError(err)));
  }

  /** Catches up now (what `online`, `visibilitychange` and the slow timer do); with `changes`, also replays edits, deletes and reactions. */
  resync(changes = true): Promise<void> {
    return this.#catchUp(changes);
  }

  async #catchUp(changes: boolean): Promise<void> {
    const rooms: MyRoom[] = [];
    for (let cursor: string | undefined; ; ) {
      const page = await this.api.listRooms({ limit: 100, ...(cursor && { cursor }) });
      rooms.push(...page.items);
      if (!(cursor = page.nextCursor)) break;
    }
    const since = this.#serverTime ?? new Date().toISOString();
    const met: string[] = [];
    for (const { room } of rooms) {
      let s = this.#streams.get(room.id);
      if (!s) {
        // A room first met: from this moment on.
        this.#streams.set(room.id, (s = new RoomStream(room.lastSeq)));
        this.#cursors.set(room.id, since);
        this.#cursorTimes.set(room.id, since);
        this.#persist(room.id);
        met.push(room.id);
      }
      if (room.lastSeq > s.known) s.known = room.lastSeq;
    }
    await parallel(rooms.map((r) => r.room.id).filter((id) => this.#streams.get(id)!.behind), (id) => this.#fill(id));
    if (changes) await parallel(rooms.map((r) => r.room.id).filter((id) => !met.includes(id)), (id) => this.#replayChanges(id));
  }

  async #replayChanges(roomId: string): Promise<void> {
    let since = this.#cursors.get(roomId);
    if (!since) return;
    // Before this pass: replaying from here again would miss nothing the pass delivers.
    const passFrom = this.#serverTime;
    let restarted = false;
    for (;;) {
      let page: Changes;
      try {
        page = await this.api.listChanges(roomId, { since, limit: FETCH_PAGE });
      } catch (err) {
        // A cursor the server no longer opens (its key was replaced): start again from a time before it.
        if (restarted || !(err instanceof ParleyError) || err.code !== 'validation_failed') throw err;
        restarted = true;
        const at = this.#cursorTimes.get(roomId);
        since = at && at !== since ? at : (this.#serverTime ?? new Date().toISOString());
        continue;
      }
      for (const m of page.items) this.#changed(m);
      this.#cursors.set(roomId, (since = page.cursor));
      // A cursor in the middle of a pass still needs the time the pass started from.
      if (!page.hasMore && passFrom) this.#cursorTimes.set(roomId, passFrom);
      this.#persist(roomId);
      if (!page.hasMore) return;
    }
  }

  /** Fetches after the watermark until the server has nothing more; a hole left is waited on, then skipped. */
  #fill(roomId: string): Promise<void> {
    const running = this.#filling.get(roomId);
    if (running) {
      this.#refill.add(roomId);
      return running;
    }
    const run = (async () => {
      const s = this.#streams.get(roomId)!;
      do {
        this.#refill.delete(roomId);
        // From the watermark, then page after page with the server's cursor.
        for (let cursor: string | undefined; ; ) {
          const page = await this.api.listMessages(roomId, cursor ? { cursor, limit: FETCH_PAGE } : { afterSeq: s.lastSeq, limit: FETCH_PAGE });
          for (const m of page.items) this.#deliver(roomId, s.accept(m));
          if (!page.nextCursor || !page.items.length) break;
          cursor = page.nextCursor;
        }
      } while (this.#refill.has(roomId));
      if (!s.behind) return;
      const now = Date.now();
      s.holeSince ??= now;
      if (now - s.holeSince >= this.#o.holeTimeoutMs) {
        const skipped = s.skipHole();
        if (skipped) {
          this.#emit('gap', { roomId, fromSeq: skipped.fromSeq, toSeq: skipped.toSeq });
          this.#deliver(roomId, skipped.delivered);
        }
      } else {
        // A slow send stores its seq within the send function's timeout (10 s): look again soon.
        this.#timer('fill:' + roomId, Math.min(2_000, s.holeSince + this.#o.holeTimeoutMs - now), () => void this.#fill(roomId).catch((e) => this.#emit('client_error', asError(e))));
      }
    })().finally(() => this.#filling.delete(roomId));
    this.#filling.set(roomId, run);
    return run;
  }

  #deliver(roomId: string, messages: Message[]): void {
    if (!messages.length) return;
    for (const m of messages) {
      this.#remember(m);
      this.#emit('message', m);
    }
    this.#persist(roomId);
  }

  #remember(m: Message): void {
    this.#cache.delete(m.id);
    this.#cache.set(m.id, m);
    if (this.#cache.size > this.#o.cacheSize) this.#cache.delete(this.#cache.keys().next().value!);
  }

  /** Saves watermarks in one write per room per turn of the event loop. */
  #persist(roomId: string): void {
    if (this.#dirty.size === 0) setTimeout(() => void this.#flushWatermarks());
    this.#dirty.add(roomId);
  }

  async #flushWatermarks(): Promise<void> {
    const prefix = await this.#prefix();
    const rooms = [...this.#dirty];
    this.#dirty.clear();
    await Promise.all(
      rooms.map((r) => this.#storage.set(`${prefix}w:${r}`, { s: this.#streams.get(r)?.lastSeq ?? 0, c: this.#cursors.get(r), t: this.#cursorTimes.get(r) })),
    ).catch((err) => this.#emit('client_error', asError(err)));
  }

  #incoming(m: Message): void {
    let s = this.#streams.get(m.roomId);
    if (!s) {
      // A room first met through a live event (created or joined after the catch-up): from here on.
      this.#streams.set(m.roomId, (s = new RoomStream(m.seq - 1)));
      this.#cursors.set(m.roomId, this.#serverTime ?? m.createdAt);
      this.#cursorTimes.set(m.roomId, this.#serverTime ?? m.createdAt);
    }
    this.#deliver(m.roomId, s.accept(m));
    if (s.held.size) this.#fill(m.roomId).catch((e) => this.#emit('client_error', asError(e)));
  }

  /** A message's current state: announced if already delivered, else it replaces the copy waiting in the buffer. */
  #changed(m: Message): void {
    const s = this.#streams.get(m.roomId);
    if (!s || m.seq > s.lastSeq) {
      if (s?.held.has(m.seq)) s.held.set(m.seq, m);
      return;
    }
    this.#remember(m);
    this.#emit('message_updated', m);
  }

  async #patch(roomId: string, messageId: string, edit: (m: Message) => Message): Promise<void> {
    const cached = this.#cache.get(messageId);
    try {
      this.#changed(cached ? edit(cached) : await this.api.getMessage(roomId, messageId));
    } catch (err) {
      this.#emit('client_error', asError(err));
    }
  }

  #onFrame(ws: SocketLike, data: unknown): void {
    if (ws !== this.#ws) return;
    this.#lastFrameAt = Date.now();
    let f: ServerFrame;
    try {
      f = JSON.parse(String(data));
    } catch {
      return;
    }
    switch (f.type) {
      case 'connection_established':
        this.#serverTime = f.serverTime;
        break;
      case 'message_new':
        this.#incoming(f.message as Message);
        break;
      case 'message_edited':
        this.#changed(f.message as Message);
        break;
      case 'message_deleted':
        void this.#patch(f.roomId, f.messageId, (m) => {
          const { metadata: _m, ...rest } = m;
          return { ...rest, content: '', attachments: [], reactions: [], deletedAt: new Date().toISOString() };
        });
        break;
      case 'reaction_added':
      case 'reaction_removed': {
        const added = f.type === 'reaction_added';
        const { emoji, count, userId } = f;
        void this.#patch(f.roomId, f.messageId, (m) => {
          const reactions = m.reactions.filter((r) => r.emoji !== emoji || count > 0).map((r) => (r.emoji === emoji ? { ...r, count, me: userId === this.userId ? added : r.me } : r));
          if (count > 0 && !reactions.some((r) => r.emoji === emoji)) reactions.push({ emoji, count, me: userId === this.userId });
          return { ...m, reactions };
        });
        break;
      }
    }
    this.#emit(f.type, f as never);
  }

  /** Sends a frame on the socket if one is open; returns whether it went. */
  #sendFrame(frame: object): boolean {
    if (this.#ws?.readyState !== 1) return false;
    this.#ws.send(JSON.stringify(frame));
    return true;
  }

  /**
   * Sends a message through the outbox: stored in `storage` at once, shown by `pending()`, sent
   * in order per room, retried across reconnects and reloads with the same `clientMessageId`.
   */
  send(roomId: string, input: SendInput): OutgoingMessage {
    const clientMessageId = newId();
    return { clientMessageId, sent: this.#outbox.add(roomId, input, clientMessageId).sent };
  }

  /** Sends not yet stored, oldest first. */
  pending(): { roomId: string; clientMessageId: string; status: 'queued' | 'sending' | 'failed'; body: SendInput; error?: { code: string; message: string } }[] {
    return this.#outbox.pending().map(({ roomId, clientMessageId, status, body, error }) => ({ roomId, clientMessageId, status: status as 'queued', body, ...(error && { error }) }));
  }

  /** Tries a failed send again, with the same `clientMessageId`. */
  retry(clientMessageId: string): void {
    this.#outbox.retry(clientMessageId);
  }

  /** Forgets a failed send. */
  discard(clientMessageId: string): Promise<void> {
    return this.#outbox.discard(clientMessageId);
  }

  /** Says I am typing: sent at most every 3 s, stopped by itself 5 s after the last call. */
  startTyping(roomId: string): void {
    const last = this.#typing.get(roomId);
    if (!last || Date.now() - last > TYPING_THROTTLE_MS) {
      if (this.#sendFrame({ type: 'typing', roomId, isTyping: true })) this.#typing.set(roomId, Date.now());
    }
    this.#timer('typing:' + roomId, TYPING_AUTO_STOP_MS, () => this.stopTyping(roomId));
  }

  stopTyping(roomId: string): void {
    clearTimeout(this.#timers.get('typing:' + roomId));
    if (this.#typing.delete(roomId)) this.#sendFrame({ type: 'typing', roomId, isTyping: false });
  }

  /** Marks everything up to `messageId` read; calls within `markReadDelayMs` become one request per room (the newest message wins). */
  markRead(roomId: string, messageId: string): void {
    const was = this.#reads.get(roomId);
    const seqOf = (id: string | undefined) => (id ? (this.#cache.get(id)?.seq ?? 0) : -1);
    if (!was || seqOf(messageId) >= seqOf(was)) this.#reads.set(roomId, messageId);
    this.#timer('read', this.#o.markReadDelayMs, () => {
      for (const [r, id] of this.#reads) this.api.markRead(r, id).catch((err) => this.#emit('client_error', asError(err)));
      this.#reads.clear();
    });
  }

  /**
   * Uploads a file for a message: an upload slot, then the bytes straight to storage with the
   * slot's headers. Resolves with the `attachmentId` to pass in `send(..., {attachmentIds})`.
   * `onProgress` (0…1) is called where the platform reports upload progress (XMLHttpRequest).
   * `width` and `height` (an image's displayed size, after EXIF orientation; both or neither) let
   * every member lay the image out before it loads.
   */
  async upload(
    roomId: string,
    file: Blob & { name?: string },
    opts: { name?: string; contentType?: string; width?: number; height?: number; onProgress?: (fraction: number) => void } = {},
  ): Promise<string> {
    const ticket = await this.api.createAttachment(roomId, {
      fileName: opts.name ?? file.name ?? 'file',
      contentType: opts.contentType ?? (file.type || 'application/octet-stream'),
      size: file.size,
      ...(opts.width !== undefined && { width: opts.width }),
      ...(opts.height !== undefined && { height: opts.height }),
    });
    const XHR = (globalThis as any).XMLHttpRequest;
    if (XHR && opts.onProgress) {
      await new Promise<void>((resolve, reject) => {
        const xhr = new XHR();
        xhr.open('PUT', ticket.uploadUrl);
        for (const [k, v] of Object.entries(ticket.uploadHeaders)) if (!/^(content-length|host)$/i.test(k)) xhr.setRequestHeader(k, v);
        xhr.upload.onprogress = (e: { loaded: number; total: number }) => opts.onProgress!(e.total ? e.loaded / e.total : 0);
        xhr.onload = () => (xhr.status < 300 ? resolve() : reject(new ParleyError('upload_failed', `upload: ${xhr.status}`, xhr.status)));
        xhr.onerror = () => reject(new ParleyError('network', 'upload failed'));
        xhr.send(file);
      });
    } else {
      const res = await this.#o.fetch(ticket.uploadUrl, { method: 'PUT', headers: ticket.uploadHeaders, body: file });
      if (!res.ok) throw new ParleyError('upload_failed', `upload: ${res.status} ${await res.text()}`, res.status);
    }
    opts.onProgress?.(1);
    return ticket.attachmentId;
  }

  #teardown(): void {
    this.#unhook?.();
    this.#unhook = undefined;
    this.#outbox.stop();
    clearInterval(this.#heartbeat);
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    const ws = this.#ws;
    this.#ws = undefined;
    this.#gen++;
    if (ws) {
      ws.onclose = ws.onmessage = ws.onopen = null;
      try {
        ws.close(1000);
      } catch {
        // Closing a socket still connecting may throw; it is being abandoned either way.
      }
    }
  }

  /** Closes the socket, stops every timer and saves the watermarks; the outbox stays in storage for the next client. */
  async close(): Promise<void> {
    this.#setState('closed');
    this.#teardown();
    if (this.#dirty.size) await this.#flushWatermarks();
  }
}

function asError(err: unknown): ParleyError {
  return err instanceof ParleyError ? err : new ParleyError('client_error', String((err as Error)?.message ?? err));
}

function newId(): string {
  const c = (globalThis as any).crypto;
  if (c?.randomUUID) return c.randomUUID();
  return Date.now().toString(36) + Math.random().toString(36).slice(2, 12);
}

async function parallel<T>(items: T[], fn: (item: T) => Promise<void>): Promise<void> {
  const queue = [...items];
  await Promise.all(
    Array.from({ length: Math.min(PARALLEL_ROOMS, queue.length) }, async () => {
      for (let item = queue.shift(); item !== undefined; item = queue.shift()) await fn(item);
    }),
  );
}
