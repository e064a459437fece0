import WebSocket from 'ws';
import { randomUUID } from 'node:crypto';

/** A user of the running local stack, with a dev-issuer token. */
export interface TestUser {
  userId: string;
  displayName: string;
  token: string;
}

export function uniqueId(prefix: string): string {
  return `${prefix}-${randomUUID().slice(0, 8)}`;
}

export async function createUser(httpUrl: string, name = 'user'): Promise<TestUser> {
  const userId = uniqueId(name);
  const displayName = `${name[0]!.toUpperCase()}${name.slice(1)}`;
  const res = await fetch(new URL('dev/token', httpUrl), {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ userId, displayName }),
  });
  if (res.status !== 200) throw new Error(`dev/token: ${res.status} ${await res.text()}`);
  const { token } = (await res.json()) as { token: string };
  return { userId, displayName, token };
}

/** `n` new users named after `prefix`. */
export const createUsers = (httpUrl: string, prefix: string, n: number): Promise<TestUser[]> => Promise.all(Array.from({ length: n }, () => createUser(httpUrl, prefix)));

/** A group room `owner` makes over the API with `others` as members (and `extra` fields of the request); its id. */
export async function createGroupRoom(httpUrl: string, owner: TestUser, others: readonly TestUser[], extra: Record<string, unknown> = {}): Promise<string> {
  const res = await api(httpUrl, 'POST', '/rooms', { token: owner.token, body: { type: 'group', name: 'Group', memberIds: others.map((u) => u.userId), ...extra } });
  if (res.status !== 201) throw new Error(`POST /rooms: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** An HTTP API call as a client makes it. */
export async function api<T = any>(
  httpUrl: string,
  method: string,
  path: string,
  opts: { token?: string; body?: unknown; rawBody?: string; headers?: Record<string, string> } = {},
): Promise<ApiResponse<T>> {
  const res = await fetch(new URL(path.replace(/^\//, ''), httpUrl), {
    method,
    headers: {
      ...(opts.token && { authorization: `Bearer ${opts.token}` }),
      ...((opts.body !== undefined || opts.rawBody !== undefined) && { 'content-type': 'application/json' }),
      ...opts.headers,
    },
    ...(opts.body !== undefined && { body: JSON.stringify(opts.body) }),
    ...(opts.rawBody !== undefined && { body: opts.rawBody }),
  });
  const text = await res.text();
  let body: any = text;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    // not JSON: keep the text
  }
  return { status: res.status, body, headers: res.headers };
}

/** `api` as `user` that must succeed: the answer's body, or an error naming the call and what it got. */
export async function apiOk(httpUrl: string, user: TestUser, method: string, path: string, body?: unknown): Promise<any> {
  const res = await api(httpUrl, method, path, { token: user.token, ...(body !== undefined && { body }) });
  if (res.status >= 300) throw new Error(`${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export type Frame = Record<string, any> & { type: string };

/** A WebSocket client that keeps every frame it received, to wait on. */
export class TestSocket {
  readonly frames: Frame[] = [];
  private waiters: (() => void)[] = [];
  closeCode: number | undefined;
  readonly closed: Promise<number>;

  constructor(readonly ws: WebSocket) {
    ws.on('message', (data) => {
      this.frames.push(JSON.parse(data.toString()) as Frame);
      this.wake();
    });
    this.closed = new Promise((resolve) =>
      ws.on('close', (code) => {
        this.closeCode = code;
        this.wake();
        resolve(code);
      }),
    );
  }

  private wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  send(frame: unknown) {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** The first received frame (past or future) matching `match`. */
  async next(match: (f: Frame) => boolean, timeoutMs = 15_000): Promise<Frame> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.frames.find(match);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching frame within ${timeoutMs} ms; got ${JSON.stringify(this.frames.map((f) => f.type))}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Sends a frame with a fresh requestId and waits for the `ack` or `error` answering it. */
  async request(frame: Record<string, unknown>, timeoutMs = 15_000): Promise<Frame> {
    const requestId = randomUUID();
    this.send({ ...frame, requestId });
    return this.next((f) => (f.type === 'ack' || f.type === 'error' || f.type === 'pong') && f.requestId === requestId, timeoutMs);
  }

  close() {
    this.ws.close();
    return this.closed;
  }
}

/** Opens a WebSocket with `?token=` (or a header) and waits for `connection_established`. */
export async function connect(
  wsUrl: string,
  user: TestUser | undefined,
  opts: { roomId?: string; viaHeader?: boolean; awaitEstablished?: boolean } = {},
): Promise<TestSocket> {
  const url = new URL(wsUrl);
  if (user && !opts.viaHeader) url.searchParams.set('token', user.token);
  if (opts.roomId) url.searchParams.set('roomId', opts.roomId);
  const ws = new WebSocket(url, user && opts.viaHeader ? { headers: { authorization: `Bearer ${user.token}` } } : {});
  const socket = new TestSocket(ws);
  await new Promise<void>((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode })));
    ws.once('error', reject);
  });
  if (opts.awaitEstablished !== false) await socket.next((f) => f.type === 'connection_established');
  return socket;
}

/** Resolves when `check` passes, polling; fails with the last error after `timeoutMs`. */
export async function eventually<T>(check: () => Promise<T> | T, timeoutMs = 15_000, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await check();
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  }
}
