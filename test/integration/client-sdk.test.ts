import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import WebSocket from 'ws';
import pngjs from 'pngjs';
import { memoryStorage, type ParleyClient } from '../../client/index.ts';
import { api, connect, createUser, eventually, type TestUser } from '#test/support/clients.ts';
import { LossyNetwork } from '#test/support/lossy-network.ts';
import { Recorder, roomHistory, sdkClient, sleep } from '#test/support/sdk.ts';

const httpUrl = inject('httpUrl');
const wsUrl = inject('wsUrl');
const direct = { httpUrl, wsUrl };

const clients: ParleyClient[] = [];
const track = (c: ParleyClient) => (clients.push(c), c);
let net: LossyNetwork;

beforeAll(async () => {
  net = await new LossyNetwork(httpUrl, wsUrl).start();
});
afterAll(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await net.stop();
});

async function roomOf(owner: TestUser, members: TestUser[]): Promise<string> {
  const res = await api(httpUrl, 'POST', '/rooms', { token: owner.token, body: { type: 'group', name: 'sdk', memberIds: members.map((m) => m.userId) } });
  expect(res.status).toBe(201);
  return res.body.id;
}

const seqs = (ms: { seq: number }[]) => ms.map((m) => m.seq);

describe('SDK client against the local stack', () => {
  it('two users: connect goes idle → connecting → catching_up → live; each sees every message once, in order, its own included', async () => {
    const [ann, bob] = await Promise.all([createUser(httpUrl, 'ann'), createUser(httpUrl, 'bob')]);
    const roomId = await roomOf(ann, [bob]);
    const a = track(sdkClient(ann, direct));
    const b = track(sdkClient(bob, direct));
    const ra = new Recorder(a);
    const rb = new Recorder(b);
    expect(a.state).toBe('idle');
    await Promise.all([a.connect(), b.connect()]);
    expect(ra.states).toEqual(['connecting', 'catching_up', 'live']);
    const outs = ['one', 'two', 'three'].map((content) => a.send(roomId, { content }));
    expect(a.pending().map((p) => p.clientMessageId)).toEqual(outs.map((o) => o.clientMessageId));
    const sent = await Promise.all(outs.map((o) => o.sent));
    expect(sent.map((m) => m.content)).toEqual(['one', 'two', 'three']);
    expect(sent.map((m) => m.clientMessageId)).toEqual(outs.map((o) => o.clientMessageId));
    b.send(roomId, { content: 'four' });
    await eventually(() => expect(seqs(rb.inRoom(roomId))).toEqual([1, 2, 3, 4]), 10_000);
    await eventually(() => expect(seqs(ra.inRoom(roomId))).toEqual([1, 2, 3, 4]), 10_000);
    expect(a.pending()).toEqual([]);
    expect((await a.api.me()).userId).toBe(ann.userId);
  });

  it('a send the server refuses for good ends failed with its error and is never retried', async () => {
    const [ann, bob] = await Promise.all([createUser(httpUrl, 'ann'), createUser(httpUrl, 'bob')]);
    const roomId = await roomOf(bob, []);
    const a = track(sdkClient(ann, direct));
    const statuses: string[] = [];
    a.on('outbox', (e) => statuses.push(e.status));
    await a.connect();
    const out = a.send(roomId, { content: 'not a member' });
    await expect(out.sent).rejects.toMatchObject({ code: 'forbidden', status: 403 });
    await sleep(1500);
    expect(statuses).toEqual(['queued', 'sending', 'failed']);
    expect(a.pending()).toEqual([expect.objectContaining({ clientMessageId: out.clientMessageId, status: 'failed', error: expect.objectContaining({ code: 'forbidden' }) })]);
  });

  it('frames dropped on a healthy socket: a hole is filled by afterSeq before later messages are shown, a lost last message by the recheck', async () => {
    const [ann, bob] = await Promise.all([createUser(httpUrl, 'ann'), createUser(httpUrl, 'bob')]);
    const roomId = await roomOf(ann, [bob]);
    const b = track(sdkClient(bob, net, { recheckIntervalMs: 1000 }));
    const rb = new Recorder(b);
    await b.connect();
    const lost = new Set([2, 3, 6]);
    net.dropFrame = (f) => f.type === 'message_new' && f.message.roomId === roomId && lost.has(f.message.seq);
    for (let i = 1; i <= 6; i++) {
      const res = await api(httpUrl, 'POST', `/rooms/${roomId}/messages`, { token: ann.token, body: { content: `m${i}` } });
      expect(res.status).toBe(201);
    }
    await eventually(() => expect(seqs(rb.inRoom(roomId))).toEqual([1, 2, 3, 4, 5, 6]), 10_000);
    expect(net.dropped).toBeGreaterThanOrEqual(3);
    expect(b.state).toBe('live');
    net.dropFrame = () => false;
  });

  it('edits, deletes and reactions made while a client was offline arrive as message_updated on return, new messages as message', async () => {
    const [ann, bob] = await Promise.all([createUser(httpUrl, 'ann'), createUser(httpUrl, 'bob')]);
    const roomId = await roomOf(ann, [bob]);
    const watcher = await connect(wsUrl, ann);
    const posted = [];
    for (const content of ['keep', 'edit me', 'delete me', 'react to me']) {
      posted.push((await api(httpUrl, 'POST', `/rooms/${roomId}/messages`, { token: ann.token, body: { content } })).body);
    }
    // The fan-out of each send has read the room's list once ann has it: none reaches the first client live.
    for (const m of posted) await watcher.next((f) => f.type === 'message_new' && f.message.id === m.id);
    await watcher.close();
    const storage = memoryStorage();
    const b = track(sdkClient(bob, direct, { storage }));
    const rb = new Recorder(b);
    await b.connect();
    // A room first met is followed from that moment: nothing of its past is replayed.
    expect(rb.inRoom(roomId)).toEqual([]);
    await b.close();

    await api(httpUrl, 'PATCH', `/rooms/${roomId}/messages/${posted[1].id}`, { token: ann.token, body: { content: 'edited' } });
    await api(httpUrl, 'DELETE', `/rooms/${roomId}/messages/${posted[2].id}`, { token: ann.token });
    await api(httpUrl, 'PUT', `/rooms/${roomId}/messages/${posted[3].id}/reactions/${encodeURIComponent('🎉')}`, { token: ann.token });
    await api(httpUrl, 'POST', `/rooms/${roomId}/messages`, { token: ann.token, body: { content: 'while away' } });

    const b2 = track(sdkClient(bob, direct, { storage }));
    const rb2 = new Recorder(b2);
    await b2.connect();
    expect(rb2.inRoom(roomId).map((m) => [m.seq, m.content])).toEqual([[5, 'while away']]);
    const updates = new Map(rb2.updates.filter((m) => m.roomId === roomId).map((m) => [m.id, m]));
    expect(updates.get(posted[1].id)?.content).toBe('edited');
    expect(updates.get(posted[2].id)?.deletedAt).toBeTruthy();
    expect(updates.get(posted[3].id)?.reactions).toEqual([{ emoji: '🎉', count: 1, me: false }]);
    expect(updates.has(posted[0].id)).toBe(false);
  });

  it('the same client offline (sockets cut, connections refused) catches up on return; live edits come as message_updated', async () => {
    const [ann, bob] = await Promise.all([createUser(httpUrl, 'ann'), createUser(httpUrl, 'bob')]);
    const roomId = await roomOf(ann, [bob]);
    const local = await new LossyNetwork(httpUrl, wsUrl).start();
    try {
      const b = track(sdkClient(bob, { httpUrl, wsUrl: local.wsUrl }, { backoff: { baseMs: 100, capMs: 400 } }));
      const rb = new Recorder(b);
      await b.connect();
      const first = (await api(httpUrl, 'POST', `/rooms/${roomId}/messages`, { token: ann.token, body: { content: 'before' } })).body;
      await eventually(() => expect(seqs(rb.inRoom(roomId))).toEqual([1]));
      local.offline = true;
      local.killAll();
      await eventually(() => expect(b.state).toBe('reconnecting'));
      await api(httpUrl, 'PATCH', `/rooms/${roomId}/messages/${first.id}`, { token: ann.token, body: { content: 'after' } });
      await api(httpUrl, 'POST', `/rooms/${roomId}/messages`, { token: ann.token, body: { content: 'missed' } });
      await sleep(300);
      local.offline = false;
      await eventually(() => expect(seqs(rb.inRoom(roomId))).toEqual([1, 2]), 10_000);
      await eventually(() => expect(rb.updates.find((m) => m.id === first.id)?.content).toBe('after'), 10_000);
      await eventually(() => expect(b.state).toBe('live'));
    } finally {
      await local.stop();
    }
  });

  it('a reload re-sends what was pending with the same clientMessageId, and the server stores it once', async () => {
    const [ann, bob] = await Promise.all([createUser(httpUrl, 'ann'), createUser(httpUrl, 'bob')]);
    const roomId = await roomOf(ann, [bob]);
    const local = await new LossyNetwork(httpUrl, wsUrl).start();
    try {
      // Sends reach the server but every answer is lost: the page never learns they were stored.
      local.lossyRequest = (method, path) => method === 'POST' && path.includes('/messages');
      local.loseResponse = 1;
      const storage = memoryStorage();
      const a = track(sdkClient(ann, local, { storage, backoff: { baseMs: 200, capMs: 400 } }));
      await a.connect();
      const outs = [a.send(roomId, { content: 'first' }), a.send(roomId, { content: 'second' })];
      await eventually(async () => expect((await roomHistory(httpUrl, ann.token, roomId)).length).toBeGreaterThanOrEqual(1), 10_000);
      await sleep(500);
      expect(a.pending().map((p) => p.clientMessageId)).toEqual(outs.map((o) => o.clientMessageId));
      await a.close();

      const reloaded = track(sdkClient(ann, direct, { storage }));
      expect(reloaded.pending()).toEqual([]);
      const sentAgain: string[] = [];
      reloaded.on('outbox', (e) => e.status === 'sent' && sentAgain.push(e.clientMessageId));
      await reloaded.connect();
      await eventually(() => expect(sentAgain).toEqual(outs.map((o) => o.clientMessageId)), 10_000);
      expect(reloaded.pending()).toEqual([]);
      const history = await roomHistory(httpUrl, ann.token, roomId);
      expect(history.map((m) => [m.content, m.clientMessageId])).toEqual([
        ['first', outs[0]!.clientMessageId],
        ['second', outs[1]!.clientMessageId],
      ]);
    } finally {
      await local.stop();
    }
  });

  it('a bad token ends in unauthorized after asking getToken once more, and never loops', async () => {
    let calls = 0;
    const bad = track(
      sdkClient({ userId: 'x', displayName: 'X', token: 'not-a-jwt' }, direct, {
        getToken: () => {
          calls++;
          return 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.bad';
        },
      }),
    );
    const states: string[] = [];
    bad.on('state', (s) => states.push(s));
    await expect(bad.connect()).rejects.toMatchObject({ code: 'unauthorized' });
    expect(bad.state).toBe('unauthorized');
    const after = calls;
    await sleep(1500);
    expect(calls).toBe(after);
    // Once for the connection, once more to be sure.
    expect(calls).toBe(2);
    expect(states).toEqual(['connecting', 'reconnecting', 'unauthorized']);
  });

  it('reconnects of 60 clients cut at once spread over the jitter window instead of stampeding', async () => {
    const users = await Promise.all(Array.from({ length: 6 }, () => createUser(httpUrl, 'herd')));
    const local = await new LossyNetwork(httpUrl, wsUrl).start();
    // When each client opens a socket, taken in the client's own process.
    const opened: number[] = [];
    class TimedWebSocket extends WebSocket {
      constructor(url: string) {
        super(url);
        opened.push(Date.now());
      }
    }
    try {
      // A 2 s first window: wide enough that this busy machine's event-loop stalls cannot fake a spread or a bunch.
      const herd = Array.from({ length: 60 }, (_, i) =>
        track(sdkClient(users[i % users.length]!, { httpUrl, wsUrl: local.wsUrl }, { WebSocket: TimedWebSocket as never, backoff: { baseMs: 2_000, capMs: 30_000 } })),
      );
      await Promise.all(herd.map((c) => c.connect()));
      const cutAt = Date.now();
      opened.length = 0;
      local.killAll();
      await eventually(() => expect(opened.length).toBe(60), 15_000);
      const delays = opened.map((t) => t - cutAt).sort((x, y) => x - y);
      const spread = delays.at(-1)! - delays[0]!;
      // Full jitter over the first window (0 … 2,000 ms): no 200 ms slice holds a large part of the herd.
      let busiest = 0;
      for (const start of delays) busiest = Math.max(busiest, delays.filter((d) => d >= start && d < start + 200).length);
      console.log(`[sdk] 60 reconnects: first ${delays[0]} ms, last ${delays.at(-1)} ms, busiest 200 ms holds ${busiest}`);
      expect(spread).toBeGreaterThan(1_000);
      expect(busiest).toBeLessThan(24);
      await eventually(() => expect(herd.every((c) => c.state === 'live')).toBe(true), 30_000);
      await Promise.all(herd.map((c) => c.close()));
    } finally {
      await local.stop();
    }
  }, 60_000);

  it('upload: slot, PUT with its headers, then a message carrying the attachment', async () => {
    const ann = await createUser(httpUrl, 'ann');
    const roomId = await roomOf(ann, []);
    const a = track(sdkClient(ann, direct));
    await a.connect();
    const progress: number[] = [];
    const file = new Blob(['hello, file'], { type: 'text/plain' });
    const attachmentId = await a.upload(roomId, file, { name: 'hello.txt', onProgress: (f) => progress.push(f) });
    const message = await a.send(roomId, { content: 'see file', attachmentIds: [attachmentId] }).sent;
    expect(message.attachments).toEqual([expect.objectContaining({ id: attachmentId, name: 'hello.txt', contentType: 'text/plain', size: 11 })]);
    expect(progress.at(-1)).toBe(1);
  });

  it("upload: an image's declared size reaches the message; half a size is refused before any byte is sent", async () => {
    const ann = await createUser(httpUrl, 'ann');
    const roomId = await roomOf(ann, []);
    const a = track(sdkClient(ann, direct));
    await a.connect();
    const image = new pngjs.PNG({ width: 6, height: 4 });
    const file = new Blob([pngjs.PNG.sync.write(image)], { type: 'image/png' });
    const attachmentId = await a.upload(roomId, file, { name: 'dot.png', width: 6, height: 4 });
    const message = await a.send(roomId, { content: '', attachmentIds: [attachmentId] }).sent;
    expect(message.attachments).toEqual([expect.objectContaining({ id: attachmentId, name: 'dot.png', width: 6, height: 4 })]);
    await expect(a.upload(roomId, file, { name: 'dot.png', width: 6 })).rejects.toMatchObject({ code: 'validation_failed', status: 400 });
  });
});
