import WebSocket from 'ws';
import { randomBytes, randomUUID } from 'node:crypto';
import { api, createUser, type TestUser } from '#test/support/clients.ts';
import { CHAT_PROSE } from '../fixtures/chat-text.ts';

export type Frame = Record<string, any> & { type: string };
export type { TestUser };

/**
 * A WebSocket client that keeps no frames: it hands each one, with the time it arrived, to
 * `onFrame`, and counts what it received besides `connection_established`.
 */
export class BenchSocket {
  connectionId = '';
  /** Frames other than `connection_established`: for a socket outside every room, this stays 0. */
  received = 0;
  onFrame: (frame: Frame, at: number) => void = () => undefined;
  private pending = new Map<string, (f: Frame) => void>();

  private constructor(
    readonly user: TestUser,
    private readonly ws: WebSocket,
  ) {
    ws.on('message', (data) => {
      const at = performance.now();
      const frame = JSON.parse(data.toString()) as Frame;
      if (frame.type === 'connection_established') return;
      this.received++;
      const waiter = typeof frame.requestId === 'string' ? this.pending.get(frame.requestId) : undefined;
      if (waiter) {
        this.pending.delete(frame.requestId);
        waiter(frame);
      }
      this.onFrame(frame, at);
    });
  }

  /** Opens a socket for `user` and waits for `connection_established`, which names the connection. */
  static open(wsUrl: string, user: TestUser, timeoutMs = 10_000): Promise<BenchSocket> {
    const url = new URL(wsUrl);
    url.searchParams.set('token', user.token);
    const ws = new WebSocket(url);
    const socket = new BenchSocket(user, ws);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no connection_established for ${user.userId} in ${timeoutMs} ms`)), timeoutMs);
      ws.once('error', reject);
      ws.on('message', (data) => {
        const frame = JSON.parse(data.toString()) as Frame;
        if (frame.type !== 'connection_established') return;
        clearTimeout(timer);
        socket.connectionId = frame.connectionId;
        resolve(socket);
      });
    });
  }

  send(frame: Frame): void {
    this.ws.send(JSON.stringify(frame));
  }

  /** Sends a frame with a fresh requestId; resolves with the `ack` or `error` answering it. */
  request(frame: Frame, timeoutMs = 10_000): Promise<Frame> {
    const requestId = randomUUID();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no answer to ${frame.type} in ${timeoutMs} ms`)), timeoutMs);
      this.pending.set(requestId, (f) => {
        clearTimeout(timer);
        resolve(f);
      });
      this.send({ ...frame, requestId });
    });
  }

  close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return Promise.resolve();
    return new Promise((resolve) => {
      this.ws.once('close', () => resolve());
      this.ws.close();
    });
  }
}

/** Runs `fn` over `items` with at most `limit` at a time (the machine has two cores). */
export async function inBatches<T, R>(items: readonly T[], limit: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!, i);
      }
    }),
  );
  return out;
}

export const createUsers = (httpUrl: string, prefix: string, n: number): Promise<TestUser[]> =>
  inBatches(Array.from({ length: n }), 20, () => createUser(httpUrl, prefix));

/** A group room created by `owner` with `others` in it; returns its id. */
export async function createRoom(httpUrl: string, owner: TestUser, others: readonly TestUser[]): Promise<string> {
  const res = await api(httpUrl, 'POST', '/rooms', {
    token: owner.token,
    body: { type: 'group', name: `bench ${others.length + 1}`, memberIds: others.map((u) => u.userId), maxMembers: Math.max(2, others.length + 1) },
  });
  if (res.status !== 201) throw new Error(`POST /rooms: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

/**
 * Exactly `bytes` bytes of ordinary English (bench/fixtures/chat-text.ts), starting with `tag` so a
 * receiver can tell messages apart: what a long chat message is, and compresses as one does.
 */
export const textOf = (tag: string, bytes: number): string => exactly(bytes, `${tag} `, CHAT_PROSE);

/**
 * Exactly `bytes` bytes of random base64 after `tag`: text that compresses about as little as
 * text can (a quarter of each byte is redundant), for the honest other end of a send's cost.
 */
export const randomTextOf = (tag: string, bytes: number): string => exactly(bytes, `${tag} `, randomBytes(bytes).toString('base64'));

/** `tag`, then `filler` over and over, cut at `bytes` bytes (every text here is ASCII: a byte is a character). */
function exactly(bytes: number, tag: string, filler: string): string {
  const text = tag.padEnd(bytes, `${filler} `);
  if (Buffer.byteLength(text) !== bytes) throw new Error(`a bench text of ${bytes} bytes came out ${Buffer.byteLength(text)} bytes long (tag ${JSON.stringify(tag)})`);
  return text;
}
