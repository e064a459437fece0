import type { Message, SocketConstructor, SocketLike } from '../../client/index.ts';

/** A WebSocket whose every event the test decides (unit tests of the SDK's state machine). */
export class ScriptedSocket implements SocketLike {
  readyState = 0;
  readonly sent: Record<string, any>[] = [];
  onopen: ((ev: any) => void) | null = null;
  onmessage: ((ev: any) => void) | null = null;
  onclose: ((ev: any) => void) | null = null;
  onerror: ((ev: any) => void) | null = null;
  closedByClient = false;
  constructor(readonly url: string) {}
  send(data: string) {
    this.sent.push(JSON.parse(data));
  }
  close() {
    this.closedByClient = true;
    if (this.readyState === 3) return;
    this.readyState = 3;
    this.onclose?.({ code: 1000 });
  }
  open() {
    this.readyState = 1;
    this.onopen?.({});
  }
  frame(f: Record<string, unknown>) {
    this.onmessage?.({ data: JSON.stringify(f) });
  }
  /** The upgrade was refused: an error and a close, never an open. */
  refuse() {
    this.readyState = 3;
    this.onerror?.({});
    this.onclose?.({ code: 1006 });
  }
  /** The network cut it. */
  cut() {
    this.readyState = 3;
    this.onclose?.({ code: 1006 });
  }
}

/** A socket class recording every socket the client opens. */
export function scriptedSockets(): { WebSocket: SocketConstructor; sockets: ScriptedSocket[]; last(): ScriptedSocket } {
  const sockets: ScriptedSocket[] = [];
  class S extends ScriptedSocket {
    constructor(url: string) {
      super(url);
      sockets.push(this);
    }
  }
  return { WebSocket: S, sockets, last: () => sockets.at(-1)! };
}

export function fakeMessage(roomId: string, seq: number, extra: Partial<Message> = {}): Message {
  return {
    id: `${roomId}-m${seq}`,
    roomId,
    seq,
    senderId: 'ann',
    sender: { id: 'ann', displayName: 'Ann' },
    type: 'text',
    content: `message ${seq}`,
    mentions: [],
    attachments: [],
    reactions: [],
    createdAt: new Date(0).toISOString(),
    ...extra,
  };
}

type Reply = { status: number; body?: unknown; headers?: Record<string, string> };

/**
 * The HTTP side of a scripted server: rooms with their messages, and hooks for what a test wants
 * to change (a 401 from /me, a send's answer). Answers the routes the SDK calls by itself.
 */
export class ScriptedServer {
  readonly rooms = new Map<string, Message[]>();
  readonly requests: string[] = [];
  meStatus = 200;
  /** Answers this status to the next `GET /rooms` calls, one each, then lists the rooms again. */
  roomsFailures: number[] = [];
  onSend: ((roomId: string, body: any) => Reply | undefined) | undefined;
  changes = new Map<string, Message[]>();

  fetch = async (input: string | URL | Request, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(String(input));
    const method = init.method ?? 'GET';
    this.requests.push(`${method} ${url.pathname}${url.search}`);
    const r = this.answer(method, url, init.body ? JSON.parse(String(init.body)) : undefined);
    return new Response(r.body === undefined ? null : JSON.stringify(r.body), { status: r.status, headers: { 'content-type': 'application/json', ...r.headers } });
  };

  private answer(method: string, url: URL, body: any): Reply {
    const parts = url.pathname.split('/').filter(Boolean).map(decodeURIComponent);
    if (parts[0] === 'me') return this.meStatus === 200 ? { status: 200, body: { userId: 'bob', displayName: 'Bob' } } : { status: this.meStatus, body: { message: 'Unauthorized' } };
    if (parts[0] !== 'rooms') return { status: 404, body: { message: 'Not Found' } };
    if (parts.length === 1 && this.roomsFailures.length) return { status: this.roomsFailures.shift()!, body: { error: { code: 'unavailable', message: 'busy' } } };
    if (parts.length === 1) return { status: 200, body: { items: [...this.rooms].map(([id, ms]) => ({ room: { id, lastSeq: ms.at(-1)?.seq ?? 0 } })) } };
    const roomId = parts[1]!;
    const messages = this.rooms.get(roomId) ?? [];
    if (parts[2] === 'changes') return { status: 200, body: { items: this.changes.get(roomId) ?? [], cursor: url.searchParams.get('since'), hasMore: false } };
    if (parts[2] === 'messages' && method === 'POST') {
      const scripted = this.onSend?.(roomId, body);
      if (scripted) return scripted;
      const existing = messages.find((m) => m.clientMessageId === body.clientMessageId);
      if (existing) return { status: 200, body: existing };
      const m = fakeMessage(roomId, (messages.at(-1)?.seq ?? 0) + 1, { content: body.content, clientMessageId: body.clientMessageId });
      messages.push(m);
      this.rooms.set(roomId, messages);
      return { status: 201, body: m };
    }
    if (parts[2] === 'messages' && parts[3]) return { status: 200, body: messages.find((m) => m.id === parts[3]) };
    if (parts[2] === 'messages') {
      const after = Number(url.searchParams.get('afterSeq') ?? 0);
      const limit = Number(url.searchParams.get('limit') ?? 50);
      const rest = messages.filter((m) => m.seq > after);
      const items = rest.slice(0, limit);
      return { status: 200, body: { items, ...(rest.length > limit && { nextCursor: String(items.at(-1)!.seq) }) } };
    }
    return { status: 404, body: { message: 'Not Found' } };
  }
}

/** A JWT-shaped token (unsigned: the SDK reads, never verifies). */
export function fakeToken(sub: string, expSeconds?: number): string {
  const payload = Buffer.from(JSON.stringify({ sub, ...(expSeconds && { exp: expSeconds }) })).toString('base64url');
  return `e30.${payload}.sig`;
}
