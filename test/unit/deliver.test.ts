import { describe, expect, it, vi } from 'vitest';
import { deliver, deliverChunk, deliverToRoom } from '#shared/domain/deliver.ts';
import fc from 'fast-check';
import { liveRanges, presenceBatches } from '#shared/adapters/dynamodb/connection-store.ts';
import type { ConnectionTarget } from '#shared/model.ts';
import type { Deps } from '#shared/ports/runtime.ts';
import type { PreparedFrame } from '#shared/ports/broadcaster.ts';
import type { FanOutChunk } from '#shared/ports/fanout-workers.ts';
import type { ServerFrame } from '#shared/schemas/frames.ts';

/**
 * The delivery's bookkeeping over in-memory ports (the real stores' paging and batching are in
 * test/integration/fanout.test.ts): what is serialized, what a worker's chunk carries, when the
 * lookups start.
 */

const target = (userId: string): ConnectionTarget => ({ connectionId: `c-${userId}`, userId });
const gate = () => {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { open, opened };
};

interface Room {
  /** Pages of member ids, as the store hands them over. */
  pages: string[][];
  /** Awaited before each page after the first. */
  beforeLaterPages?: Promise<void>;
  /** Thrown after the first page. */
  failAfterFirst?: Error;
  chunkSize?: number;
  /** Pages of the room's live list; without it, the lists do not serve yet (presence is read). */
  live?: ConnectionTarget[][];
}

function memoryDeps(room: Room) {
  const posts: { connectionId: string; prepared: PreparedFrame }[] = [];
  const chunks: FanOutChunk[] = [];
  const events: string[] = [];
  const deps = {
    clock: { now: () => new Date(), sleep: async () => undefined },
    rooms: {
      async listMemberIds(_roomId: string, onPage?: (ids: string[]) => void) {
        const all: string[] = [];
        for (const [i, page] of room.pages.entries()) {
          if (i > 0) {
            if (room.failAfterFirst) throw room.failAfterFirst;
            await room.beforeLaterPages;
          }
          events.push(`page ${i}`);
          all.push(...page);
          onPage?.(page);
        }
        return all;
      },
    },
    connections: {
      connectionsOf(userIds: string[], onBatch?: (found: ConnectionTarget[]) => void) {
        events.push(`read ${userIds.join(',')}`);
        return (async () => {
          await new Promise((resolve) => setTimeout(resolve, 5));
          const found = userIds.map(target);
          events.push(`landed ${userIds.join(',')}`);
          onBatch?.(found);
          return found;
        })();
      },
      deleteConnection: async () => undefined,
      liveListsSince: async () => (room.live ? new Date(0).toISOString() : undefined),
      async liveIn(_roomId: string, onPage: (found: ConnectionTarget[]) => void) {
        for (const [i, page] of (room.live ?? []).entries()) {
          if (i > 0) await room.beforeLaterPages;
          events.push(`live ${i}`);
          onPage(page);
        }
      },
      async unlistLive(_roomIds: string[], connectionIds: string[]) {
        events.push(`unlist ${connectionIds.join(',')}`);
      },
    },
    broadcaster: {
      async post(connectionId: string, prepared: PreparedFrame) {
        posts.push({ connectionId, prepared });
        events.push(`post ${connectionId}`);
        return connectionId.startsWith('gone') ? ('gone' as const) : ('sent' as const);
      },
    },
    ...(room.chunkSize !== undefined && {
      workers: {
        chunkSize: room.chunkSize,
        async run(given: FanOutChunk[]) {
          chunks.push(...given);
          return given.map((c) => ({ sent: c.targets.length, gone: 0 }));
        },
      },
    }),
  } as unknown as Deps;
  return { deps, posts, chunks, events };
}

const frame: ServerFrame = { type: 'message_deleted', roomId: 'r1', messageId: 'm1', seq: 1 };
const ids = (n: number, from = 0) => Array.from({ length: n }, (_, i) => `u${from + i}`);

describe('deliver: frames serialized once', () => {
  it('posts one frame for everyone as one body, and hands each worker a chunk carrying it once', async () => {
    const { deps, posts, chunks } = memoryDeps({ pages: [ids(4), ids(8, 4)], chunkSize: 5 });
    const result = await deliverToRoom(deps, 'r1', frame);
    expect(result).toEqual({ sent: 12, gone: 0 });
    expect(new Set(posts.map((p) => p.prepared)).size).toBe(1);
    expect(posts[0]!.prepared.data).toBe(JSON.stringify(frame));
    expect(chunks.length).toBeGreaterThan(0);
    for (const chunk of chunks) {
      expect(chunk.frames).toEqual([JSON.stringify(frame)]);
      expect(chunk.targets.every(([, , n]) => n === 0)).toBe(true);
    }
    // Every member's connection exactly once, by the fan-out itself or by a worker.
    const reached = [...posts.map((p) => p.connectionId), ...chunks.flatMap((c) => c.targets.map(([id]) => id))].sort();
    expect(reached).toEqual(ids(12).map((u) => `c-${u}`).sort());
  });

  it('makes a per-user frame once per user, and frames equal in JSON share one body', async () => {
    const { deps, posts } = memoryDeps({ pages: [] });
    const asked: string[] = [];
    const connections = [target('a'), { connectionId: 'c-a2', userId: 'a' }, target('b'), target('c')];
    // A new object per call: `a` and `b` get equal frames, `c` its own.
    await deliver(deps, connections, (userId) => (asked.push(userId), { ...frame, seq: userId === 'c' ? 2 : 1 }));
    expect(asked).toEqual(['a', 'b', 'c']);
    const body = new Map(posts.map((p) => [p.connectionId, p.prepared]));
    expect(body.get('c-a')).toBe(body.get('c-a2'));
    expect(body.get('c-a')).toBe(body.get('c-b'));
    expect(body.get('c-c')).not.toBe(body.get('c-a'));
    expect(JSON.parse(body.get('c-c')!.data)).toEqual({ ...frame, seq: 2 });
  });

  it("a worker's chunk posts its one frame to every target", async () => {
    const { deps, posts } = memoryDeps({ pages: [] });
    const data = JSON.stringify(frame);
    const result = await deliverChunk(deps, { frames: [data], targets: [['c1', 'u1', 0], ['c2', 'u2', 0], ['c3', 'u3', 0]] });
    expect(result).toEqual({ sent: 3, gone: 0 });
    expect(posts.map((p) => p.connectionId)).toEqual(['c1', 'c2', 'c3']);
    expect(new Set(posts.map((p) => p.prepared)).size).toBe(1);
    expect(posts[0]!.prepared.data).toBe(data);
  });
});

describe('deliverToRoom: lookups as pages land', () => {
  it('reads and posts to the first page of members before the next page is read', async () => {
    const later = gate();
    const { deps, events } = memoryDeps({ pages: [['a', 'b'], ['c', 'd']], beforeLaterPages: later.opened });
    const done = deliverToRoom(deps, 'r1', frame, { except: { userId: 'b' } });
    // The next page waits behind the gate, so nothing else can happen meanwhile; waited for, not
    // slept on: a loaded machine may run the read's timer after any fixed pause.
    // The sender (`except`) is left out of the reads.
    await vi.waitFor(() => expect(events).toEqual(['page 0', 'read a', 'landed a', 'post c-a']), { timeout: 10_000 });
    later.open();
    expect(await done).toEqual({ sent: 3, gone: 0 });
    expect(events.slice(4)).toEqual(['page 1', 'read c,d', 'landed c,d', 'post c-c', 'post c-d']);
  });

  it('fails when the member query fails after its first page, once the reads it started are done', async () => {
    const { deps, events } = memoryDeps({ pages: [['a'], ['b']], failAfterFirst: new Error('throttled') });
    // Noted where it happens, beside the read's own landing: the order holds however late either comes.
    const done = deliverToRoom(deps, 'r1', frame).catch((err: unknown) => {
      events.push('delivery failed');
      throw err;
    });
    await expect(done).rejects.toThrow('throttled');
    expect(events.filter((e) => e.startsWith('read') || e.startsWith('landed') || e === 'delivery failed')).toEqual(['read a', 'landed a', 'delivery failed']);
  });
});

describe('deliverToRoom: from the room\'s live list', () => {
  it('posts to the members among the first page of the list before the next page is read, and to no one else', async () => {
    const later = gate();
    const outsider = target('x');
    const { deps, events } = memoryDeps({ pages: [['a', 'b', 'c']], live: [[target('a'), outsider, target('b')], [target('c')]], beforeLaterPages: later.opened });
    const done = deliverToRoom(deps, 'r1', frame, { except: { userId: 'b' } });
    // No member's presence is read; the sender (`except`) and the outsider's entry are left out.
    await vi.waitFor(() => expect(events).toEqual(['page 0', 'live 0', 'post c-a']), { timeout: 10_000 });
    later.open();
    expect(await done).toEqual({ sent: 2, gone: 0 });
    expect(events.slice(3)).toEqual(['live 1', 'post c-c']);
  });

  it('takes the entry of a connection the gateway no longer knows off the room\'s list', async () => {
    const { deps, events } = memoryDeps({ pages: [['a']], live: [[{ connectionId: 'gone-1', userId: 'a' }, target('a')]] });
    expect(await deliverToRoom(deps, 'r1', frame)).toEqual({ sent: 1, gone: 1 });
    expect(events.at(-1)).toBe('unlist gone-1');
  });
});

describe('presence batch reads', () => {
  it('start with a small read, then read 100 keys at a time, covering every user once', () => {
    expect(presenceBatches(0)).toEqual([]);
    expect(presenceBatches(5)).toEqual([5]);
    expect(presenceBatches(100)).toEqual([8, 92]);
    expect(presenceBatches(1000)).toEqual([8, ...Array<number>(9).fill(100), 92]);
    expect(presenceBatches(10_000).reduce((a, b) => a + b, 0)).toBe(10_000);
  });
});

describe('the ranges of a large room\'s live list', () => {
  it('hold every connection id from the first page\'s last one on exactly once, and none before it', () => {
    const base64 = fc.string({ unit: fc.constantFrom(...'+/0123456789=ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz'), minLength: 1, maxLength: 16 });
    fc.assert(
      fc.property(base64, fc.array(base64, { maxLength: 50 }), (after, ids) => {
        const ranges = liveRanges(after);
        for (const id of ids) {
          const holding = ranges.filter(([from, to]) => id >= from && id <= to).length;
          expect(holding).toBe(id >= after ? 1 : 0);
        }
      }),
    );
    // Read at once: a ninth of the ids each, for a list whose first page ended early in the alphabet.
    expect(liveRanges('+x')).toHaveLength(9);
    expect(liveRanges('zz')).toEqual([['zz', '\u{10FFFF}']]);
  });
});
