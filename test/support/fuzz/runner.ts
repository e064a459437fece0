import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import WebSocket from 'ws';
import * as z from 'zod';
import { messageSendFrame, requestIdOf } from '#shared/schemas/frames.ts';
import { sendMessageBody } from '#shared/schemas/messages.ts';
import { servicePostMessageBody } from '#shared/schemas/people.ts';
import { createUser, TestSocket, type Frame, type TestUser } from '#test/support/clients.ts';
import { signedHeaders, type ServiceCredential } from '#test/support/service.ts';
import type { Case, ConnectCase, FrameCase, HttpCase } from './cases.ts';
import { LITERAL_PREFIX, toJsonText } from './hostile.ts';

/**
 * Runs fuzz cases against a running stack over real HTTP and WebSocket connections, and checks
 * every answer: no 5xx (nor an `internal` error frame), the error envelope on every 4xx, nothing of
 * the server's insides in any body or frame, an answer for every frame with a `requestId`, sends
 * that the schema accepts stored and read back as sent, forged cursors refused. A broken rule
 * throws a `FuzzFailure` naming the route and the input.
 */

export class FuzzFailure extends Error {
  override name = 'FuzzFailure';
}

export interface Endpoints {
  httpUrl: string;
  wsUrl: string;
  service: ServiceCredential;
}

/** The answer of API Gateway itself, which is not the handlers' error envelope (AWS answers the same). */
const GATEWAY_ANSWERS = new Map<number, string | undefined>([
  // The HTTP server's own limits on the request line and headers (API Gateway has its own), before any route.
  [414, undefined],
  [431, undefined],
  [401, 'Unauthorized'],
  [403, 'Forbidden'],
  [404, 'Not Found'],
  [413, 'Request Entity Too Large'],
]);

/** Traces of the server's insides: stack frames, source paths, the SDK's and DynamoDB's words. */
const LEAKS: RegExp[] = [
  /\/(?:functions|shared|infra|node_modules|src|dist)\/[\w./-]+/,
  /\b[\w-]+\.(?:ts|js|mjs|cjs):\d+/,
  /\n\s+at\s/,
  /\bat (?:async )?[\w$.<>]+ \((?:file:|\/|node:)/,
  /ValidationException|ConditionalCheckFailed|TransactionCanceled|ProvisionedThroughput|ResourceNotFoundException|AccessDeniedException|SerializationException/,
  /AttributeValue|ExpressionAttribute|KeyConditionExpression|ExclusiveStartKey|LastEvaluatedKey/,
  /\b(?:TypeError|RangeError|ReferenceError|SyntaxError): /,
];

/** The first leak in `text` that the request itself did not carry (an echoed input is no leak). */
function leakIn(text: string, sent: string): string | undefined {
  for (const re of LEAKS) {
    const m = re.exec(text);
    if (m && !sent.includes(m[0])) return m[0];
  }
  return undefined;
}

const truncate = (s: string, n = 600) => (s.length > n ? `${s.slice(0, n)}… (${s.length} chars)` : s);

/** Deep-equality of JSON values as they travel (key order and -0 aside). */
const sameJson = (a: unknown, b: unknown) => isDeepStrictEqual(JSON.parse(JSON.stringify(a) ?? 'null'), JSON.parse(JSON.stringify(b) ?? 'null'));
/** A path segment the URL parser takes as `.` or `..` (WHATWG URL: `%2e` counts as a dot). */
const DOT_SEGMENT = /^(?:\.|%2e){1,2}$/i;
/** Whether a stored message holds what a send sent (its content and metadata). */
const holds = (message: any, sent: { content?: string | undefined; metadata?: unknown }) => sameJson(message?.content ?? '', sent.content ?? '') && sameJson(message?.metadata, sent.metadata);


interface Answer {
  status: number;
  text: string;
  body: any;
  headers: Headers;
}

/** Percent-encodes a path segment byte by byte (lone surrogates become U+FFFD as in any UTF-8 client). */
const encodeSegment = (s: string) => encodeURIComponent(wellFormed(s));
/** Lone surrogates replaced by U+FFFD, as a UTF-8 client must send them. */
const wellFormed = (s: string) => s.replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD');

export class FuzzWorld {
  owner!: TestUser;
  member!: TestUser;
  outsider!: TestUser;
  private canaryRoom = '';
  private room = '';
  /** False once the batch archived the fuzz room or removed someone from it: sends there may fail. */
  private roomIntact = true;
  private message = '';
  private memberMessage = '';
  private foreignRoom = '';
  private foreignMessage = '';
  private publicRoom = '';
  private cursors = new Map<string, string>();
  private socket: TestSocket | undefined;
  /** clientMessageId → the message first stored with it, per room. */
  private sentByClientId = new Map<string, { id: string; content: unknown; metadata: unknown }>();
  /**
   * Sends by frames without a `requestId` (never answered), what each sent: stored or not, the
   * fuzzer cannot tell, so a later send of the same clientMessageId may answer with any of them.
   */
  private unanswered = new Map<string, { content?: string | undefined; metadata?: unknown }[]>();
  /** Every case run, for the report of the last batch. */
  readonly log: string[] = [];
  readonly counts = new Map<string, number>();
  /** How often each rule beyond the basic ones was checked. */
  readonly checks = new Map<string, number>();

  constructor(readonly endpoints: Endpoints) {}

  async setup(): Promise<void> {
    const { httpUrl } = this.endpoints;
    [this.owner, this.member, this.outsider] = await Promise.all([createUser(httpUrl, 'fuzz-owner'), createUser(httpUrl, 'fuzz-member'), createUser(httpUrl, 'fuzz-outsider')]);
    this.canaryRoom = await this.createRoom(this.owner, { type: 'group', name: 'canary', memberIds: [this.member.userId] });
    this.foreignRoom = await this.createRoom(this.outsider, { type: 'group', name: 'foreign' });
    this.foreignMessage = (await this.must(this.outsider, 'POST', `/rooms/${this.foreignRoom}/messages`, { content: 'not yours' }, 201)).id;
    this.publicRoom = await this.createRoom(this.outsider, { type: 'group', name: 'open', visibility: 'public' });
    await this.createRoom(this.outsider, { type: 'group', name: 'open 2', visibility: 'public' });
    await this.createRoom(this.owner, { type: 'group', name: 'second' });
    await this.newRoom();
    // Cursors of real lists: mine, another user's, another list's.
    this.cursors.set('own:GET /rooms', await this.cursorOf(this.owner, '/rooms?limit=1'));
    this.cursors.set('own:GET /rooms/public', await this.cursorOf(this.owner, '/rooms/public?limit=1'));
    this.cursors.set('other-user', await this.cursorOf(this.outsider, '/rooms?limit=1'));
    // The canary room's history and change feed: cursors of the same lists for another room.
    for (const n of [1, 2]) await this.must(this.owner, 'POST', `/rooms/${this.canaryRoom}/messages`, { content: `canary ${n}` }, 201);
    this.cursors.set(`other-room:${HISTORY}`, await this.cursorOf(this.owner, `/rooms/${this.canaryRoom}/messages?limit=1`));
    this.cursors.set(`other-room:${CHANGES}`, await this.cursorOf(this.owner, `/rooms/${this.canaryRoom}/changes?since=${encodeURIComponent(new Date().toISOString())}`));
  }

  /** The cursor of the first page of `path` (a list's `nextCursor`, the change feed's `cursor`). */
  private async cursorOf(user: TestUser, path: string): Promise<string> {
    const res = await this.must(user, 'GET', path, undefined, 200);
    const cursor: unknown = res.nextCursor ?? res.cursor;
    if (typeof cursor !== 'string') throw new Error(`no cursor from ${path}: ${JSON.stringify(res)}`);
    return cursor;
  }

  /** The fuzz room's own history and change feed cursors, mine and the member's (another user's, same list and room). */
  private async roomCursors(): Promise<void> {
    const since = encodeURIComponent(new Date().toISOString());
    for (const [who, user] of [['own', this.owner], ['other-user', this.member]] as const) {
      this.cursors.set(`${who}:${HISTORY}`, await this.cursorOf(user, `/rooms/${this.room}/messages?limit=1`));
      this.cursors.set(`${who}:${CHANGES}`, await this.cursorOf(user, `/rooms/${this.room}/changes?since=${since}`));
    }
  }

  private async createRoom(user: TestUser, body: unknown): Promise<string> {
    return (await this.must(user, 'POST', '/rooms', body, 201)).id as string;
  }

  private async newRoom() {
    this.room = await this.createRoom(this.owner, { type: 'group', name: 'fuzz', memberIds: [this.member.userId] });
  }

  /** A room the fuzzer may damage (archive, leave, demote): made anew when it was. Fresh messages in it. */
  async beginBatch(): Promise<void> {
    const [members, room] = await Promise.all([this.http({ method: 'GET', path: `/rooms/${this.room}/members`, user: this.owner }), this.http({ method: 'GET', path: `/rooms/${this.room}`, user: this.owner })]);
    const items = (members.body?.items ?? []) as { userId: string; role: string }[];
    const intact = members.status === 200 && items.some((m) => m.userId === this.owner.userId && m.role === 'admin') && items.some((m) => m.userId === this.member.userId) && !room.body?.archivedAt;
    if (!intact) await this.newRoom();
    this.roomIntact = true;
    const [mine, theirs] = await Promise.all([
      this.must(this.owner, 'POST', `/rooms/${this.room}/messages`, { content: 'fuzz target' }, 201),
      this.must(this.member, 'POST', `/rooms/${this.room}/messages`, { content: 'member says' }, 201),
    ]);
    this.message = mine.id;
    this.memberMessage = theirs.id;
    if (!intact || !this.cursors.has(`own:${HISTORY}`)) await this.roomCursors();
  }

  /** The placeholders cases carry, for what exists now. */
  private refs(acting: TestUser | undefined): Record<string, string> {
    return {
      'foreign-message': this.foreignMessage,
      'member-message': this.memberMessage,
      'foreign-room': this.foreignRoom,
      'public-room': this.publicRoom,
      room: this.room,
      message: this.message,
      member: this.member.userId,
      outsider: this.outsider.userId,
      me: (acting ?? this.owner).userId,
      token: this.owner.token,
      'other-token': this.outsider.token,
    };
  }

  private resolveString(s: string, acting: TestUser | undefined, cursorList: string | undefined): string {
    if (s.startsWith(LITERAL_PREFIX)) return s;
    if (s.startsWith('@@cursor:')) {
      const which = s.slice('@@cursor:'.length);
      const own = this.cursors.get(`own:${cursorList}`) ?? this.cursors.get('own:GET /rooms')!;
      if (which === 'own') return own;
      if (which === 'other-user') return this.cursors.get(`other-user:${cursorList}`) ?? this.cursors.get('other-user')!;
      // The second-to-last character changed (the last carries unused bits): never to itself.
      if (which === 'tampered') return own.slice(0, -2) + (own.at(-2) === 'A' ? 'B' : 'A') + own.slice(-1);
      const otherList = cursorList === 'GET /rooms' ? this.cursors.get('own:GET /rooms/public')! : this.cursors.get('own:GET /rooms')!;
      if (which === 'other-room') return this.cursors.get(`other-room:${cursorList}`) ?? otherList;
      return otherList;
    }
    const refs = this.refs(acting);
    return s.replace(/@@(foreign-message|member-message|foreign-room|public-room|other-token|room|message|member|outsider|me|token)/g, (_, name: string) => refs[name]!);
  }

  /** The value with every placeholder replaced, keys included (`@@lit:` literals stay for `toJsonText`). */
  resolve(value: unknown, acting?: TestUser, cursorList?: string): unknown {
    if (typeof value === 'string') return this.resolveString(value, acting, cursorList);
    if (Array.isArray(value)) return value.map((v) => this.resolve(v, acting, cursorList));
    if (value && typeof value === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) Object.defineProperty(out, this.resolveString(k, acting, cursorList), { value: this.resolve(v, acting, cursorList), enumerable: true, writable: true, configurable: true });
      return out;
    }
    return value;
  }

  private userOf(who: string): TestUser | undefined {
    return who === 'owner' ? this.owner : who === 'member' ? this.member : who === 'outsider' ? this.outsider : undefined;
  }

  /** One HTTP request, exactly as given (any method, path, content type, body), JWT or SigV4 signed. */
  async http(req: { method: string; path: string; user?: TestUser; token?: string; signed?: boolean; body?: string; contentType?: string | null }): Promise<Answer> {
    const url = new URL(req.path.replace(/^\//, ''), this.endpoints.httpUrl);
    let headers: Record<string, string> = {};
    if (req.body !== undefined && req.contentType !== null) headers['content-type'] = req.contentType ?? 'application/json';
    const token = req.token ?? req.user?.token;
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    if (req.signed) headers = await signedHeaders(url, this.endpoints.service, req.method, headers, req.body);
    const res = await fetch(url, { method: req.method, headers, ...(req.body !== undefined && { body: req.body }), signal: AbortSignal.timeout(20_000) });
    const text = await res.text();
    let body: any;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    return { status: res.status, text, body, headers: res.headers };
  }

  private async must(user: TestUser, method: string, path: string, body: unknown, status: number): Promise<any> {
    const res = await this.http({ method, path, user, ...(body !== undefined && { body: JSON.stringify(body) }) });
    if (res.status !== status) throw new FuzzFailure(`${method} ${path} as ${user.userId}: expected ${status}, got ${res.status} ${truncate(res.text)}`);
    return res.body;
  }

  async run(c: Case): Promise<void> {
    this.counts.set(caseName(c), (this.counts.get(caseName(c)) ?? 0) + 1);
    if (c.kind === 'http') return this.runHttp(c);
    if (c.kind === 'frame') return this.runFrame(c);
    return this.runConnect(c);
  }

  private async runHttp(c: HttpCase): Promise<void> {
    const acting = this.userOf(c.who);
    const path = c.path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const v = c.params[name]!;
      return typeof v === 'string' ? encodeSegment(this.resolveString(v, acting, undefined)) : v.raw;
    });
    const query = c.query.map(([k, v]) => [this.resolveString(k, acting, c.route), this.resolveString(v, acting, c.route).replace(/^@@lit:/, '')] as const);
    const search = query.length ? `?${query.map(([k, v]) => `${encodeURIComponent(wellFormed(k))}=${encodeURIComponent(wellFormed(v))}`).join('&')}` : '';
    const resolvedBody = c.body && 'json' in c.body ? this.resolve(c.body.json, acting) : undefined;
    const bodyText = c.body === undefined ? undefined : 'json' in c.body ? toJsonText(resolvedBody) : this.resolveString(c.body.text, acting, undefined);
    const token = c.who === 'bad-token' ? `${this.owner.token.slice(0, -6)}AAAAAA` : c.who === 'garbage-token' ? 'not.a.jwt' : undefined;
    const res = await this.http({
      method: c.method,
      path: `${path}${search}`,
      ...(acting && c.who !== 'service' && { user: acting }),
      ...(token && { token }),
      signed: c.who === 'service',
      ...(bodyText !== undefined && { body: bodyText }),
      ...(c.contentType !== undefined && { contentType: c.contentType }),
    });
    const shown = `${c.method} ${truncate(path + search, 400)}${bodyText === undefined ? '' : ` ${truncate(bodyText, 400)}`} (as ${c.who}${c.contentType !== undefined ? `, content-type ${c.contentType}` : ''})`;
    this.log.push(`${shown} → ${res.status}`);
    const fail = (why: string) => {
      throw new FuzzFailure(`${c.route}: ${why}\n  request: ${shown}\n  answer: ${res.status} ${truncate(res.text)}`);
    };
    const sent = `${path}${search}${bodyText ?? ''}${decodeURIComponentSafe(path + search)}`;
    this.checkAnswer(res, sent, fail);

    // A dot segment (`%2e%2e` is `..` to the URL parser) makes the client send another path
    // (`/rooms/%2e%2e` is `/`), not this route's: only what holds for any answer (above) applies.
    if (path.split('/').some((segment) => DOT_SEGMENT.test(segment))) return;
    if (res.status < 300 && c.method === 'DELETE' && c.params.roomId === '@@room' && /^\/(?:service\/)?rooms\/\{roomId\}(?:\/members\/\{userId\})?$/.test(c.path)) this.roomIntact = false;
    // What the HTTP server refuses for size (414, 431) and what matches no route (404) reach no handler.
    if (res.status === 414 || res.status === 431 || (res.status === 404 && res.body?.message === 'Not Found')) return;
    // Who may call at all: the gateway answers before any handler.
    if ((c.who === 'anonymous' || c.who === 'bad-token' || c.who === 'garbage-token') && c.auth === 'jwt' && res.status !== 401) fail('a request without a valid token must be refused with 401');
    if (c.auth === 'iam' && c.who !== 'service' && res.status !== 403) fail('a service route must refuse what is not signed with the service credential (403)');

    // Forged, foreign and tampered cursors: 400 validation_failed (or the search rate limit first).
    // The change feed's `since` also takes a time: only what is not one is a cursor there.
    const cursors = c.query.filter(([k]) => k === c.cursorParam).map(([, v]) => v);
    const forged = cursors.length === 1 && cursors[0] !== '@@cursor:own' && cursors[0] !== '' && !(c.cursorParam === 'since' && isTime(cursors[0]!));
    if (forged && c.who === 'owner') {
      if (res.status !== 429 && !(res.status === 400 && res.body?.error?.code === 'validation_failed')) fail('a cursor the server did not issue for this list and user must be refused with 400 validation_failed');
      this.checks.set(`forged cursors refused (${c.route})`, (this.checks.get(`forged cursors refused (${c.route})`) ?? 0) + 1);
    }

    // Sends: one the schema accepts, to my room, is stored; any stored one holds what was sent and reads back so.
    const sentJson = c.body !== undefined && 'json' in c.body && bodyText !== undefined && !JSON.stringify(c.body.json).includes(LITERAL_PREFIX) && query.length === 0 && isJsonType(c.contentType) ? JSON.parse(bodyText) : undefined;
    if (c.route === 'POST /rooms/{roomId}/messages' && acting && sentJson !== undefined) {
      const parsed = sendMessageBody.safeParse(sentJson);
      const mustStore = parsed.success && c.who === 'owner' && c.params.roomId === '@@room' && this.roomIntact && isPlainSend(parsed.data);
      if (parsed.success && (mustStore || res.status < 300)) await this.checkStored(acting, parsed.data, mustStore, res.status, res.body, fail);
    }
    if (c.route === 'POST /service/rooms/{roomId}/messages' && sentJson !== undefined && res.status < 300) {
      const parsed = servicePostMessageBody.safeParse(sentJson);
      if (parsed.success) await this.checkStored(undefined, parsed.data, false, res.status, res.body, fail);
    }
    if (c.route === 'POST /rooms/{roomId}/messages' && acting && res.status < 300) this.noteSend(acting, res.body);
  }

  /** Any stored send with a clientMessageId: a later one with the same id is a retry. */
  private noteSend(sender: TestUser, message: any) {
    if (typeof message?.clientMessageId !== 'string') return;
    const key = `${message.roomId} ${sender.userId} ${message.clientMessageId}`;
    if (!this.sentByClientId.has(key)) this.sentByClientId.set(key, { id: message.id, content: message.content, metadata: message.metadata });
  }

  private checkAnswer(res: Answer, sent: string, fail: (why: string) => never) {
    if (res.status >= 500) fail(`status ${res.status} (≥ 500)`);
    const leak = leakIn(res.text, sent);
    if (leak) fail(`the answer shows the server's insides: ${JSON.stringify(leak)}`);
    if (res.status >= 400) {
      const gateway = GATEWAY_ANSWERS.get(res.status);
      const fromGateway = GATEWAY_ANSWERS.has(res.status) && (gateway === undefined || (res.body?.message === gateway && Object.keys(res.body).length === 1));
      const err = res.body?.error;
      const enveloped = res.body && typeof res.body === 'object' && Object.keys(res.body).length === 1 && err && typeof err.code === 'string' && typeof err.message === 'string';
      if (!fromGateway && !enveloped) fail('a 4xx body must be {"error":{"code","message"}}');
      if (res.status === 429 && !res.headers.get('retry-after')) fail('429 without Retry-After');
    }
  }

  /**
   * The message a send answered with holds what was sent, and read back it still does; a retried
   * clientMessageId finds the first. `mustStore`: the send was valid and to my room, so it must
   * have succeeded. `sender` undefined: the service posted it.
   */
  private async checkStored(sender: TestUser | undefined, input: { content?: string | undefined; metadata?: unknown; clientMessageId?: string | undefined }, mustStore: boolean, status: number, message: any, fail: (why: string) => never) {
    const roomId = typeof message?.roomId === 'string' ? message.roomId : this.room;
    const key = sender === undefined || input.clientMessageId === undefined ? undefined : `${roomId} ${sender.userId} ${input.clientMessageId}`;
    let first = key === undefined ? undefined : this.sentByClientId.get(key);
    // The first send of this clientMessageId was a frame nobody answered: this retry's answer names
    // it, and holds what one of those frames sent.
    if (!first && key !== undefined && this.unanswered.has(key) && status === 200 && message?.clientMessageId === input.clientMessageId && message?.senderId === sender?.userId) {
      if (!this.unanswered.get(key)!.some((sent) => holds(message, sent))) fail('a retry must return the first send of its clientMessageId, and no unanswered send held what it returned');
      first = { id: message.id, content: message.content, metadata: message.metadata };
      this.sentByClientId.set(key, first);
      this.unanswered.delete(key);
    }
    if (mustStore && (first ? status !== 200 : status !== 201)) fail(`a valid send to my room must be stored (${first ? `200, a retry of ${first.id}` : '201'})`);
    this.checks.set('sends read back', (this.checks.get('sends read back') ?? 0) + 1);
    const expected = first ?? { id: message?.id, content: input.content, metadata: input.metadata };
    if (first && message?.id !== first.id) fail(`a retry with the same clientMessageId must return the first message ${first.id}`);
    if (!sameJson(message?.content ?? '', expected.content ?? '')) fail('the stored content differs from what was sent');
    if (!sameJson(message?.metadata, expected.metadata)) fail(`metadata must come back as sent: got ${truncate(JSON.stringify(message?.metadata) ?? 'undefined', 300)}`);
    if (key !== undefined && !first) this.sentByClientId.set(key, expected);
    const reader = sender ?? (roomId === this.room ? this.owner : undefined);
    if (!reader) return;
    const again = await this.http({ method: 'GET', path: `/rooms/${roomId}/messages/${message.id}`, user: reader });
    // The service posts whether the owner is a member or not: an owner who left this batch reads nothing,
    // and says so on the member list too.
    if (again.status === 403 && reader === this.owner && sender === undefined) {
      const members = await this.http({ method: 'GET', path: `/rooms/${roomId}/members`, user: reader });
      if (members.status === 403) return;
    }
    if (again.status !== 200) fail(`the stored message must read back: ${again.status} ${truncate(again.text)}`);
    if (!sameJson(again.body?.metadata, expected.metadata)) fail(`metadata read back differs: ${truncate(JSON.stringify(again.body?.metadata) ?? 'undefined', 300)}`);
  }

  private async ownerSocket(): Promise<TestSocket> {
    if (this.socket && this.socket.closeCode === undefined && this.socket.ws.readyState === WebSocket.OPEN) return this.socket;
    const url = new URL(this.endpoints.wsUrl);
    url.searchParams.set('token', this.owner.token);
    const socket = new TestSocket(new WebSocket(url));
    await new Promise<void>((resolve, reject) => {
      socket.ws.once('open', () => resolve());
      socket.ws.once('error', reject);
    });
    await socket.next((f) => f.type === 'connection_established');
    this.socket = socket;
    return socket;
  }

  private checkFrames(frames: Frame[], sent: string, fail: (why: string) => never) {
    for (const f of frames) {
      const text = JSON.stringify(f);
      const leak = leakIn(text, sent);
      if (leak) fail(`a frame shows the server's insides: ${JSON.stringify(leak)} in ${truncate(text)}`);
      if (f.type === 'error') {
        if (typeof f.code !== 'string' || typeof f.message !== 'string') fail(`an error frame without code and message: ${truncate(text)}`);
        if (f.code === 'internal') fail(`an internal error frame: ${truncate(text)}`);
      }
    }
  }

  private async runFrame(c: FrameCase): Promise<void> {
    const socket = await this.ownerSocket();
    const rid = `fz-${randomUUID()}`;
    const resolved = 'json' in c.body ? this.resolveString(toJsonText(this.resolve(c.body.json, this.owner)), this.owner, undefined).replaceAll('@@rid', rid) : this.resolveString(c.body.text, this.owner, undefined).replaceAll('@@rid', rid);
    const shown = `frame ${truncate(resolved, 500)}`;
    this.log.push(shown);
    const from = socket.frames.length;
    const fail = (why: string): never => {
      throw new FuzzFailure(`${caseName(c)}: ${why}\n  sent: ${shown}\n  received: ${truncate(JSON.stringify(socket.frames.slice(from)), 800)}`);
    };
    let frame: unknown;
    try {
      frame = JSON.parse(resolved);
    } catch {
      frame = undefined;
    }
    socket.send(resolved);
    if (Buffer.byteLength(resolved) > 32 * 1024) {
      // API Gateway closes the connection on a frame over 32 KB (1009); the next case reconnects.
      const code = await Promise.race([socket.closed, new Promise((r) => setTimeout(() => r('open'), 5000))]);
      if (code !== 1009) fail(`a frame over 32 KB must close the connection with 1009, got ${String(code)}`);
      return;
    }
    const requestId = requestIdOf(frame);
    const after = (match: (f: Frame) => boolean) => socket.next((f) => socket.frames.indexOf(f) >= from && match(f), 10_000).catch(() => undefined);
    if (requestId !== undefined) {
      const answer = await after((f) => (f.type === 'ack' || f.type === 'error' || f.type === 'pong') && f.requestId === requestId);
      if (!answer) fail(`no ack or error for requestId ${JSON.stringify(requestId)} within 10 s`);
      if (answer!.type === 'pong' && (frame as { type?: unknown }).type !== 'ping') fail('a pong answers only a ping');
    }
    // A ping after it: the connection still answers, and whatever the frame caused has arrived.
    const barrier = `${rid}-barrier`;
    socket.send({ type: 'ping', requestId: barrier });
    if (!(await after((f) => f.type === 'pong' && f.requestId === barrier))) fail(`the connection stopped answering (closed: ${socket.closeCode})`);
    this.checkFrames(socket.frames.slice(from), resolved, fail);

    // A message_send the schema accepts, to my room, is acknowledged; any acknowledged one holds what was sent.
    if (requestId === rid && 'json' in c.body && !JSON.stringify(c.body.json).includes(LITERAL_PREFIX)) {
      const parsed = messageSendFrame.safeParse(frame);
      const answer = socket.frames.slice(from).find((f) => f.requestId === rid)!;
      if (parsed.success) {
        const mustStore = parsed.data.roomId === this.room && this.roomIntact && isPlainSend(parsed.data);
        if (mustStore && answer.type !== 'ack') fail(`a valid message_send to my room must be acknowledged, got ${truncate(JSON.stringify(answer))}`);
        if (answer.type === 'ack') {
          // An ack has no status: a retry is a clientMessageId stored before, or one an unanswered frame
          // sent whose content the ack returns (and this send did not, or it would not tell).
          const key = `${parsed.data.roomId} ${this.owner.userId} ${parsed.data.clientMessageId}`;
          const retry =
            parsed.data.clientMessageId !== undefined &&
            (this.sentByClientId.has(key) || (!holds(answer.result, parsed.data) && (this.unanswered.get(key)?.some((sent) => holds(answer.result, sent)) ?? false)));
          await this.checkStored(this.owner, parsed.data, mustStore, retry ? 200 : 201, answer.result, fail);
        }
      }
    }
    for (const f of socket.frames.slice(from)) if (f.type === 'ack' && f.requestId === requestId) this.noteSend(this.owner, f.result);
    if (requestId === undefined) {
      const parsed = messageSendFrame.safeParse(frame);
      if (parsed.success && parsed.data.clientMessageId !== undefined) {
        const key = `${parsed.data.roomId} ${this.owner.userId} ${parsed.data.clientMessageId}`;
        this.unanswered.set(key, [...(this.unanswered.get(key) ?? []), { content: parsed.data.content, metadata: parsed.data.metadata }]);
      }
    }
  }

  private async runConnect(c: ConnectCase): Promise<void> {
    const url = new URL(this.endpoints.wsUrl);
    const query = c.query.map(([k, v]) => [this.resolveString(k, this.owner, undefined), this.resolveString(v, this.owner, undefined)] as const);
    for (const [k, v] of query) url.searchParams.append(wellFormed(k), wellFormed(v));
    const header = c.header === undefined ? undefined : this.resolveString(c.header, this.owner, undefined);
    const shown = `connect ${truncate(url.search, 400)}${header === undefined ? '' : ` with Authorization: ${truncate(header, 200)}`}`.replaceAll(this.owner.token, '<owner token>').replaceAll(this.outsider.token, '<outsider token>');
    this.log.push(shown);
    const ws = new WebSocket(url, header === undefined ? {} : { headers: { authorization: header.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?') } });
    const socket = new TestSocket(ws);
    const outcome = await new Promise<{ status: number; body: string }>((resolve) => {
      ws.once('open', () => resolve({ status: 101, body: '' }));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (d: Buffer) => (body += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      ws.once('error', (err) => resolve({ status: 0, body: String(err) }));
    });
    const fail = (why: string): never => {
      throw new FuzzFailure(`$connect: ${why}\n  request: ${shown}\n  answer: ${outcome.status} ${truncate(outcome.body)}`);
    };
    // A request head over the HTTP server's 16 KB limit is answered 431 and closed while the client may
    // still be writing it: the client then sees the reset before the answer.
    const oversized = Buffer.byteLength(url.href) + Buffer.byteLength(header ?? '') > 16 * 1024;
    if (oversized && outcome.status === 0 && /ECONNRESET|EPIPE/.test(outcome.body)) return;
    if (outcome.status === 0 || outcome.status >= 500) fail(`status ${outcome.status}`);
    const leak = leakIn(outcome.body, url.search + (header ?? ''));
    if (leak) fail(`the refusal shows the server's insides: ${JSON.stringify(leak)}`);
    const tokens = [...query.filter(([k]) => k === 'token').map(([, v]) => v), ...(header === undefined ? [] : [header.replace(/^Bearer\s+/i, '')])];
    // Past the HTTP server's own limits (414, 431) no authorizer runs.
    if (new Set(tokens).size > 1 && outcome.status !== 401 && outcome.status !== 414 && outcome.status !== 431) fail('a ?token= and an Authorization header that disagree must be refused with 401');
    if (outcome.status === 101) {
      const established = await socket.next((f) => f.type === 'connection_established', 5000).catch(() => undefined);
      if (!established) fail('an admitted connection must get connection_established');
      this.checkFrames(socket.frames, url.search, fail);
      await socket.close();
    }
  }

  /** After a batch: a valid request still works, end to end, and what the batch stored reads back. */
  async checkStillWorks(): Promise<void> {
    const fail = (why: string): never => {
      throw new FuzzFailure(`after the batch: ${why}`);
    };
    const note = `canary ${randomUUID()}`;
    const sent = await this.http({ method: 'POST', path: `/rooms/${this.canaryRoom}/messages`, user: this.owner, body: JSON.stringify({ content: note, metadata: { n: 1 } }) });
    if (sent.status !== 201) fail(`a plain send answered ${sent.status} ${truncate(sent.text)}`);
    const read = await this.http({ method: 'GET', path: `/rooms/${this.canaryRoom}/messages/${sent.body.id}`, user: this.member });
    if (read.status !== 200 || read.body?.content !== note) fail(`the member could not read it back: ${read.status} ${truncate(read.text)}`);
    const socket = await this.ownerSocket();
    const ack = await socket.request({ type: 'message_send', roomId: this.canaryRoom, content: `${note} ws` }, 10_000).catch((e: Error) => ({ type: 'timeout', message: e.message }) as Frame);
    if (ack.type !== 'ack') fail(`a plain message_send answered ${truncate(JSON.stringify(ack))}`);
    const pong = await socket.request({ type: 'ping' }, 10_000).catch(() => undefined);
    if (pong?.type !== 'pong') fail('a ping got no pong');
    // Whatever the batch stored in its room (and my lists) still reads.
    const since = new Date(Date.now() - 3_600_000).toISOString();
    const paths = [`/rooms/${this.room}/messages?limit=100`, `/rooms/${this.room}/changes?since=${encodeURIComponent(since)}`, `/rooms/${this.room}/members`, '/rooms?limit=100', '/rooms/public', '/unread', `/presence?userIds=${this.owner.userId},${this.member.userId}`];
    const answers = await Promise.all(paths.map((path) => this.http({ method: 'GET', path, user: this.owner })));
    answers.forEach((res, i) => {
      const path = paths[i]!;
      // The batch may have archived or left its room; the room is made anew for the next batch.
      const roomGone = path.startsWith(`/rooms/${this.room}`) && (res.status === 403 || res.status === 404);
      if (res.status !== 200 && !roomGone) fail(`GET ${path} answered ${res.status} ${truncate(res.text)}`);
    });
    // The cursors the fuzz room's history and change feed answer lead to their next pages.
    const pagers = [`/rooms/${this.room}/messages?limit=1`, `/rooms/${this.room}/changes?since=${encodeURIComponent(since)}&limit=1`];
    for (const path of pagers) {
      const first = await this.http({ method: 'GET', path, user: this.owner });
      if (first.status !== 200) continue; // the batch archived or left the room (checked above)
      const cursor: unknown = first.body?.nextCursor ?? first.body?.cursor;
      if (typeof cursor !== 'string') continue;
      const next = path.includes('/changes') ? `/rooms/${this.room}/changes?since=${encodeURIComponent(cursor)}&limit=1` : `/rooms/${this.room}/messages?limit=1&cursor=${encodeURIComponent(cursor)}`;
      const res = await this.http({ method: 'GET', path: next, user: this.owner });
      if (res.status !== 200) fail(`GET ${next} (the cursor of ${path}) answered ${res.status} ${truncate(res.text)}`);
      this.checks.set('own cursors followed', (this.checks.get('own cursors followed') ?? 0) + 1);
    }
  }

  async close(): Promise<void> {
    await this.socket?.close();
  }
}

const isJsonType = (t: string | null | undefined) => t === undefined || t === 'application/json';

const HISTORY = 'GET /rooms/{roomId}/messages';
const CHANGES = 'GET /rooms/{roomId}/changes';
const isTime = (v: string) => z.iso.datetime({ offset: true }).safeParse(v).success;

/** A send whose outcome the schema alone decides: no attachments or reply (which must exist), content within the default length. */
function isPlainSend(m: { content?: string | undefined; attachmentIds?: string[] | undefined; replyTo?: string | undefined }): boolean {
  return (m.attachmentIds?.length ?? 0) === 0 && m.replyTo === undefined && (m.content ?? '').length <= 3000 && (m.content ?? '').trim().length > 0;
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** What a case exercises: its route or frame type. */
export function caseName(c: Case): string {
  if (c.kind === 'http') return c.route;
  if (c.kind === 'connect') return '$connect';
  return `frame ${c.name}`;
}
