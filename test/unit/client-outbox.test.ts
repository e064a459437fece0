import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Outbox, type OutboxEntry } from '../../client/outbox.ts';
import { ParleyError, memoryStorage, type Message, type ParleyStorage } from '../../client/index.ts';
import { fakeMessage } from '#test/support/scripted.ts';

type Post = { entry: OutboxEntry; resolve(m: Message): void; reject(e: unknown): void };

let posts: Post[];
let events: string[];
let storage: ParleyStorage;

function outbox(store = storage): Outbox {
  const o = new Outbox(
    store,
    async (id) => `p:o:${id}`,
    (entry) => new Promise<Message>((resolve, reject) => posts.push({ entry: { ...entry }, resolve, reject })),
    (e) => events.push(`${e.body.content}:${e.status}`),
    { baseMs: 500, capMs: 30_000 },
    () => 0.5,
  );
  o.enabled = true;
  return o;
}

const tick = (ms = 0) => vi.advanceTimersByTimeAsync(ms);

beforeEach(() => {
  vi.useFakeTimers();
  posts = [];
  events = [];
  storage = memoryStorage();
});
afterEach(() => vi.useRealTimers());

describe('SDK outbox', () => {
  it('queued → sending → sent, stored until the server has it, one send at a time per room in order, rooms in parallel', async () => {
    const o = outbox();
    const a1 = o.add('a', { content: 'a1' }, 'c1');
    o.add('a', { content: 'a2' }, 'c2');
    o.add('b', { content: 'b1' }, 'c3');
    await tick();
    expect(await storage.keys()).toEqual(['p:o:c1', 'p:o:c2', 'p:o:c3']);
    expect(posts.map((p) => p.entry.clientMessageId)).toEqual(['c1', 'c3']);
    posts[0]!.resolve(fakeMessage('a', 1, { clientMessageId: 'c1' }));
    await expect(a1.sent).resolves.toMatchObject({ seq: 1 });
    await tick();
    expect(posts.map((p) => p.entry.clientMessageId)).toEqual(['c1', 'c3', 'c2']);
    expect(await storage.keys()).toEqual(['p:o:c2', 'p:o:c3']);
    expect(events.filter((e) => e.startsWith('a1'))).toEqual(['a1:queued', 'a1:sending', 'a1:sent']);
    expect(o.pending().map((e) => e.clientMessageId)).toEqual(['c2', 'c3']);
  });

  it('a retryable failure waits (Retry-After when given, else jittered backoff) and re-sends the same clientMessageId', async () => {
    const o = outbox();
    o.add('a', { content: 'x' }, 'c1');
    await tick();
    posts[0]!.reject(new ParleyError('rate_limited', 'slow down', 429, undefined, 3));
    await tick(2_999);
    expect(posts).toHaveLength(1);
    await tick(1);
    expect(posts).toHaveLength(2);
    // Second failure: attempt 1 of the backoff, 0.5 × 1,000 ms; the third: 0.5 × 2,000 ms.
    posts[1]!.reject(new ParleyError('network', 'offline'));
    await tick(499);
    expect(posts).toHaveLength(2);
    await tick(1);
    expect(posts.map((p) => p.entry.clientMessageId)).toEqual(['c1', 'c1', 'c1']);
    posts[2]!.reject(new ParleyError('unavailable', 'busy', 503));
    await tick(999);
    expect(posts).toHaveLength(3);
    await tick(1);
    expect(posts).toHaveLength(4);
    expect(events).toEqual(['x:queued', 'x:sending', 'x:queued', 'x:sending', 'x:queued', 'x:sending', 'x:queued', 'x:sending']);
  });

  it('a refusal for good (validation, forbidden, not found) fails with the error, stays listed, and is never retried', async () => {
    const o = outbox();
    const out = o.add('a', { content: '' }, 'c1');
    o.add('a', { content: 'next' }, 'c2');
    await tick();
    posts[0]!.reject(new ParleyError('validation_failed', 'content is required', 400));
    await expect(out.sent).rejects.toMatchObject({ code: 'validation_failed' });
    await tick(600_000);
    expect(posts.map((p) => p.entry.clientMessageId)).toEqual(['c1', 'c2']);
    expect(o.pending()[0]).toMatchObject({ clientMessageId: 'c1', status: 'failed', error: { code: 'validation_failed' } });
    expect(await storage.get('p:o:c1')).toMatchObject({ status: 'failed' });
    // Only on the user's word: retry() sends it again, discard() forgets it.
    o.retry('c1');
    await tick();
    posts[1]!.resolve(fakeMessage('a', 1));
    await tick();
    expect(posts.map((p) => p.entry.clientMessageId)).toEqual(['c1', 'c2', 'c1']);
  });

  it('a reload (a new outbox on the same storage) re-sends what was queued or in flight, in order, with the same ids', async () => {
    const first = outbox();
    first.add('a', { content: 'one' }, 'c1');
    first.add('a', { content: 'two' }, 'c2');
    await tick();
    expect(posts).toHaveLength(1);
    first.stop();
    posts = [];
    const saved = await Promise.all((await storage.keys()).map((k) => storage.get(k)));
    const second = outbox();
    second.load(saved as OutboxEntry[]);
    expect(second.pending().map((e) => [e.clientMessageId, e.status])).toEqual([
      ['c1', 'queued'],
      ['c2', 'queued'],
    ]);
    second.kick();
    await tick();
    expect(posts.map((p) => p.entry.clientMessageId)).toEqual(['c1']);
    posts[0]!.resolve(fakeMessage('a', 1));
    await tick();
    expect(posts.map((p) => p.entry.clientMessageId)).toEqual(['c1', 'c2']);
  });

  it('nothing is sent while disabled (before connect, after close)', async () => {
    const o = outbox();
    o.enabled = false;
    o.add('a', { content: 'x' }, 'c1');
    await tick(10_000);
    expect(posts).toEqual([]);
    o.enabled = true;
    o.kick();
    await tick();
    expect(posts).toHaveLength(1);
  });
});
