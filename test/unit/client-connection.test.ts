import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ParleyClient, memoryStorage, type ParleyClientOptions } from '../../client/index.ts';
import { ScriptedServer, fakeMessage, fakeToken, scriptedSockets } from '#test/support/scripted.ts';

let server: ScriptedServer;
let net: ReturnType<typeof scriptedSockets>;
let tokens: number;

function client(opts: Partial<ParleyClientOptions> = {}): ParleyClient {
  return new ParleyClient({
    httpUrl: 'http://api.test/',
    wsUrl: 'ws://ws.test/',
    getToken: () => (tokens++, fakeToken('bob')),
    WebSocket: net.WebSocket,
    fetch: server.fetch as typeof fetch,
    storage: memoryStorage(),
    random: () => 0.5,
    ...opts,
  });
}

/** Lets promises and the timers due within `ms` run. */
const tick = (ms = 0) => vi.advanceTimersByTimeAsync(ms);

beforeEach(() => {
  vi.useFakeTimers();
  server = new ScriptedServer();
  net = scriptedSockets();
  tokens = 0;
});
afterEach(() => {
  vi.useRealTimers();
});

async function live(c: ParleyClient) {
  const connected = c.connect();
  await tick();
  net.last().open();
  net.last().frame({ type: 'connection_established', connectionId: 'c1', userId: 'bob', serverTime: new Date().toISOString() });
  await tick();
  await connected;
}

describe('SDK connection state machine', () => {
  it('idle → connecting → catching_up → live, the token on the URL', async () => {
    const c = client();
    const states: string[] = [];
    c.on('state', (s) => states.push(s));
    expect(c.state).toBe('idle');
    await live(c);
    expect(states).toEqual(['connecting', 'catching_up', 'live']);
    expect(new URL(net.last().url).searchParams.get('token')).toBe(fakeToken('bob'));
    expect(c.userId).toBe('bob');
    expect(tokens).toBe(1);
    await c.close();
    expect(c.state).toBe('closed');
  });

  it('a cut socket reconnects after the jittered backoff, growing per failed try, and resets once live', async () => {
    const c = client();
    await live(c);
    net.last().cut();
    expect(c.state).toBe('reconnecting');
    // random 0.5: 250 ms, then 500, then 1000…
    await tick(249);
    expect(net.sockets).toHaveLength(1);
    await tick(1);
    expect(net.sockets).toHaveLength(2);
    net.last().cut();
    await tick(499);
    expect(net.sockets).toHaveLength(2);
    await tick(1);
    expect(net.sockets).toHaveLength(3);
    net.last().open();
    await tick();
    expect(c.state).toBe('live');
    net.last().cut();
    await tick(250);
    expect(net.sockets).toHaveLength(4);
    await c.close();
  });

  it('a refused upgrade asks for a token once more, checks it over HTTP, and stops in unauthorized', async () => {
    server.meStatus = 401;
    const c = client();
    const connected = c.connect();
    connected.catch(() => undefined);
    await tick();
    net.last().refuse();
    await tick();
    await expect(connected).rejects.toMatchObject({ code: 'unauthorized' });
    expect(c.state).toBe('unauthorized');
    expect(tokens).toBe(2);
    await tick(120_000);
    expect(net.sockets).toHaveLength(1);
    expect(tokens).toBe(2);
  });

  it('a refused connection whose token is fine (a network failure) backs off and tries again', async () => {
    const c = client();
    c.connect().catch(() => undefined);
    await tick();
    net.last().refuse();
    await tick(250);
    expect(net.sockets).toHaveLength(2);
    expect(c.state).toBe('reconnecting');
    await c.close();
  });

  it('a handshake that never completes is abandoned after connectTimeoutMs and retried', async () => {
    const c = client({ connectTimeoutMs: 5_000 });
    c.connect().catch(() => undefined);
    await tick(4_999);
    expect(net.sockets).toHaveLength(1);
    await tick(1);
    expect(net.sockets[0]!.closedByClient).toBe(true);
    expect(c.state).toBe('reconnecting');
    await tick(250);
    expect(net.sockets).toHaveLength(2);
    net.last().open();
    await tick();
    expect(c.state).toBe('live');
    await c.close();
  });

  it('a failed catch-up is retried on the same socket after the backoff; a 401 during it ends in unauthorized', async () => {
    server.roomsFailures = [503, 503];
    const c = client();
    const states: string[] = [];
    c.on('state', (s) => states.push(s));
    const connected = c.connect();
    await tick();
    net.last().open();
    await tick();
    expect(c.state).toBe('catching_up');
    await tick(250 + 500);
    await connected;
    expect(net.sockets).toHaveLength(1);
    expect(states).toEqual(['connecting', 'catching_up', 'live']);
    await c.close();

    server.roomsFailures = [401, 401];
    const d = client();
    const done = d.connect();
    done.catch(() => undefined);
    await tick();
    net.last().open();
    await tick();
    await expect(done).rejects.toMatchObject({ code: 'unauthorized' });
    expect(net.last().closedByClient).toBe(true);
  });

  it('pings on the interval; a socket with no answer is dropped and replaced', async () => {
    const c = client({ pingIntervalMs: 1_000 });
    await live(c);
    const first = net.last();
    await tick(1_000);
    expect(first.sent).toEqual([{ type: 'ping' }]);
    first.frame({ type: 'pong' });
    await tick(1_000);
    expect(first.sent).toHaveLength(2);
    expect(c.state).toBe('live');
    // No pong this time: half-open.
    await tick(1_000);
    expect(first.closedByClient).toBe(true);
    expect(c.state).toBe('reconnecting');
    await tick(250);
    expect(net.sockets).toHaveLength(2);
    await c.close();
  });

  it('reconnects with a fresh token before the current one expires', async () => {
    const exp = Math.floor(Date.now() / 1000) + 600;
    const c = client({ getToken: () => (tokens++, fakeToken('bob', exp + tokens)), pingIntervalMs: 3_600_000 });
    await live(c);
    expect(tokens).toBe(1);
    await tick(539_000);
    expect(net.sockets).toHaveLength(1);
    await tick(2_000);
    expect(net.sockets).toHaveLength(2);
    expect(tokens).toBe(2);
    expect(new URL(net.last().url).searchParams.get('token')).toBe(fakeToken('bob', exp + 2));
    await c.close();
  });

  it('`online` retries at once; close() removes every global listener', async () => {
    const target = new EventTarget();
    const g = globalThis as any;
    g.addEventListener = target.addEventListener.bind(target);
    g.removeEventListener = target.removeEventListener.bind(target);
    try {
      const c = client({ backoff: { baseMs: 60_000, capMs: 60_000 } });
      await live(c);
      net.last().cut();
      await tick(1_000);
      expect(net.sockets).toHaveLength(1);
      target.dispatchEvent(new Event('online'));
      await tick();
      expect(net.sockets).toHaveLength(2);
      await c.close();
      target.dispatchEvent(new Event('online'));
      await tick(120_000);
      expect(net.sockets).toHaveLength(2);
    } finally {
      delete g.addEventListener;
      delete g.removeEventListener;
    }
  });
});

describe('SDK delivery', () => {
  it('a hole in live events is fetched with afterSeq and later events wait for it', async () => {
    server.rooms.set('r', []);
    const c = client();
    const got: number[] = [];
    c.on('message', (m) => got.push(m.seq));
    await live(c);
    server.rooms.set('r', [1, 2, 3].map((s) => fakeMessage('r', s)));
    net.last().frame({ type: 'message_new', message: fakeMessage('r', 1) });
    net.last().frame({ type: 'message_new', message: fakeMessage('r', 3) });
    expect(got).toEqual([1]);
    await tick();
    expect(got).toEqual([1, 2, 3]);
    expect(server.requests).toContain('GET /rooms/r/messages?afterSeq=1&limit=100');
    net.last().frame({ type: 'message_new', message: fakeMessage('r', 3) });
    expect(got).toEqual([1, 2, 3]);
    await c.close();
  });

  it('a hole the server never fills is waited on for holeTimeoutMs, reported once, then skipped', async () => {
    server.rooms.set('r', []);
    const c = client({ holeTimeoutMs: 15_000 });
    const got: number[] = [];
    const gaps: unknown[] = [];
    c.on('message', (m) => got.push(m.seq));
    c.on('gap', (g) => gaps.push(g));
    await live(c);
    server.rooms.set('r', [1, 3].map((s) => fakeMessage('r', s)));
    net.last().frame({ type: 'message_new', message: fakeMessage('r', 1) });
    net.last().frame({ type: 'message_new', message: fakeMessage('r', 3) });
    await tick(14_000);
    expect(got).toEqual([1]);
    expect(gaps).toEqual([]);
    await tick(2_000);
    expect(got).toEqual([1, 3]);
    expect(gaps).toEqual([{ roomId: 'r', fromSeq: 2, toSeq: 2 }]);
    await tick(60_000);
    expect(gaps).toHaveLength(1);
    await c.close();
  });

  it('resumes from the watermark a previous client left in the same storage; a room first met starts now', async () => {
    const storage = memoryStorage();
    server.rooms.set('old', [1, 2].map((s) => fakeMessage('old', s)));
    const first = client({ storage });
    await live(first);
    await first.close();
    server.rooms.get('old')!.push(fakeMessage('old', 3), fakeMessage('old', 4));
    server.rooms.set('new', [1, 2].map((s) => fakeMessage('new', s)));
    const second = client({ storage });
    const got: string[] = [];
    second.on('message', (m) => got.push(m.id));
    await live(second);
    expect(got).toEqual(['old-m3', 'old-m4']);
    await second.close();
  });

  it('reaction and delete frames update the delivered copy and come out as message_updated', async () => {
    server.rooms.set('r', []);
    const c = client();
    const updates: any[] = [];
    c.on('message_updated', (m) => updates.push(m));
    await live(c);
    net.last().frame({ type: 'message_new', message: fakeMessage('r', 1) });
    net.last().frame({ type: 'reaction_added', roomId: 'r', messageId: 'r-m1', emoji: '👍', userId: 'bob', count: 1 });
    net.last().frame({ type: 'reaction_added', roomId: 'r', messageId: 'r-m1', emoji: '👍', userId: 'ann', count: 2 });
    net.last().frame({ type: 'reaction_removed', roomId: 'r', messageId: 'r-m1', emoji: '👍', userId: 'bob', count: 1 });
    net.last().frame({ type: 'message_deleted', roomId: 'r', messageId: 'r-m1', seq: 1 });
    await tick();
    expect(updates.map((u) => u.reactions)).toEqual([[{ emoji: '👍', count: 1, me: true }], [{ emoji: '👍', count: 2, me: true }], [{ emoji: '👍', count: 1, me: false }], []]);
    expect(updates.at(-1)).toMatchObject({ content: '', deletedAt: expect.any(String) });
    await c.close();
  });

  it('typing is throttled and stops by itself; markRead batches to one request per room', async () => {
    server.rooms.set('r', []);
    const c = client({ markReadDelayMs: 500 });
    await live(c);
    const ws = net.last();
    c.startTyping('r');
    c.startTyping('r');
    await tick(1_000);
    c.startTyping('r');
    expect(ws.sent.filter((f) => f.type === 'typing')).toEqual([{ type: 'typing', roomId: 'r', isTyping: true }]);
    await tick(5_000);
    expect(ws.sent.filter((f) => f.type === 'typing').at(-1)).toEqual({ type: 'typing', roomId: 'r', isTyping: false });
    c.markRead('r', 'a');
    c.markRead('r', 'b');
    await tick(600);
    expect(server.requests.filter((r) => r.endsWith('/read'))).toEqual(['POST /rooms/r/read']);
    await c.close();
  });
});
