import { afterEach, describe, expect, it, vi } from 'vitest';
import { appendMessage } from '#shared/domain/messages.ts';
import { AppError } from '#shared/errors.ts';
import type { MessageRecord, RoomRecord } from '#shared/model.ts';
import type { Deps } from '#shared/ports/runtime.ts';

/**
 * The seq loop's backoff (insertAtNext, reached through appendMessage) on a clock of its own: a
 * put refused `refusals` times, each taking `putMs`. Math.random is pinned just under 1, so each
 * sleep is its window. The store's calls are in-memory; the loop under contention against
 * DynamoDB Local is test/integration/send-path.test.ts.
 */
function contended(refusals: number, putMs: number) {
  let now = Date.parse('2026-12-01T00:00:00Z');
  const sleeps: number[] = [];
  const tried: number[] = [];
  const room = { roomId: 'r1', type: 'group', memberVersion: 1 } as RoomRecord;
  const deps = {
    clock: {
      now: () => new Date(now),
      sleep: async (ms: number) => void (sleeps.push(Math.round(ms)), (now += ms)),
    },
    ids: { newId: () => '01JF0000000000000000000000' },
    rooms: { getRoomWithLatest: async () => ({ room, latest: undefined }) },
    messages: {
      insertMessage: async (m: MessageRecord) => {
        now += putMs;
        tried.push(m.seq);
        if (tried.length > refusals) return { stored: true };
        return { stored: false, occupant: { ...m, senderId: 'someone-else' } };
      },
      // Others keep taking seqs while this one sleeps: the room's newest is the last tried.
      latestSeq: async () => tried.at(-1)!,
    },
  } as unknown as Deps;
  return { deps, sleeps, tried };
}

const append = (deps: Deps) => appendMessage(deps, 'r1', { senderId: 'system', senderName: 'System', type: 'system', content: 'hello', mentions: [] });

afterEach(() => void vi.restoreAllMocks());

describe('the seq loop under contention', () => {
  it('moves on one seq at once, then widens its window fourfold a conflict up to 2 s', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.9999);
    const { deps, sleeps, tried } = contended(7, 1);
    await expect(append(deps)).resolves.toMatchObject({ seq: 8 });
    expect(tried).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(sleeps).toEqual([8, 32, 128, 512, 2000, 2000]);
  });

  it('waits at least twice what a slow refused put took: others are racing', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.9999);
    const { deps, sleeps } = contended(6, 150);
    await append(deps);
    expect(sleeps).toEqual([300, 300, 300, 512, 2000]);
  });

  it('draws each sleep at random under its window (full jitter)', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.25);
    const { deps, sleeps } = contended(5, 1);
    await append(deps);
    expect(sleeps).toEqual([2, 8, 32, 128]);
  });

  it('answers unavailable, with nothing stored, once the 28 s deadline has passed', async () => {
    vi.spyOn(Math, 'random').mockReturnValue(0.9999);
    const { deps, tried } = contended(Number.POSITIVE_INFINITY, 1);
    const err = await append(deps).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AppError);
    expect((err as AppError).code).toBe('unavailable');
    // 8 + 32 + 128 + 512 ms, then 2 s sleeps: past 28 s after about 14 more tries.
    expect(tried.length).toBeGreaterThan(14);
    expect(tried.length).toBeLessThan(22);
  });
});
