import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RoomStream } from '../../client/room-stream.ts';
import { backoffDelay, tokenClaims } from '../../client/backoff.ts';

const msg = (seq: number) => ({ id: `m${seq}`, seq });

describe('RoomStream (the gap buffer)', () => {
  it('delivers in order, holds what comes past a hole, drops duplicates', () => {
    const s = new RoomStream(0);
    expect(s.accept(msg(1))).toEqual([msg(1)]);
    expect(s.accept(msg(3))).toEqual([]);
    expect(s.behind).toBe(true);
    expect(s.accept(msg(3))).toEqual([]);
    expect(s.accept(msg(1))).toEqual([]);
    expect(s.accept(msg(2))).toEqual([msg(2), msg(3)]);
    expect(s.behind).toBe(false);
    expect(s.lastSeq).toBe(3);
  });

  it('starts from its watermark: older messages are not delivered again', () => {
    const s = new RoomStream(10);
    expect(s.accept(msg(9))).toEqual([]);
    expect(s.accept(msg(11))).toEqual([msg(11)]);
  });

  it('skips a hole the server never fills, once, and delivers what waited behind it', () => {
    const s = new RoomStream(4);
    s.accept(msg(7));
    s.accept(msg(8));
    expect(s.skipHole()).toEqual({ fromSeq: 5, toSeq: 6, delivered: [msg(7), msg(8)] });
    expect(s.skipHole()).toBeUndefined();
    expect(s.lastSeq).toBe(8);
  });

  it('a missing newest message (known from GET /rooms, nothing held) is skipped to the known seq', () => {
    const s = new RoomStream(2);
    s.known = 4;
    expect(s.behind).toBe(true);
    expect(s.skipHole()).toEqual({ fromSeq: 3, toSeq: 4, delivered: [] });
    expect(s.behind).toBe(false);
  });

  it('any arrival order with any duplicates gives each message once, in seq order', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 60 }).chain((n) =>
          fc.tuple(fc.constant(n), fc.shuffledSubarray([...Array.from({ length: n }, (_, i) => i + 1), ...Array.from({ length: n }, (_, i) => i + 1)], { minLength: 2 * n })),
        ),
        ([n, order]) => {
          const s = new RoomStream(0);
          const out = order.flatMap((seq) => s.accept(msg(seq)));
          expect(out.map((m) => m.seq)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
          expect(s.held.size).toBe(0);
        },
      ),
    );
  });
});

describe('backoff', () => {
  const opts = { baseMs: 500, capMs: 30_000 };
  it('doubles from the base up to the cap, with full jitter over 0 … that', () => {
    expect([0, 1, 2, 3].map((a) => backoffDelay(a, opts, () => 0.999999))).toEqual([499, 999, 1999, 3999]);
    expect(backoffDelay(3, opts, () => 0)).toBe(0);
    expect(backoffDelay(3, opts, () => 0.5)).toBe(2000);
  });

  it('applies the jitter after the cap: clients at the cap still spread over 0 … 30 s', () => {
    expect(backoffDelay(20, opts, () => 0.999999)).toBe(29_999);
    expect(backoffDelay(20, opts, () => 0.1)).toBe(3_000);
    expect(backoffDelay(1_000, opts, () => 0.5)).toBe(15_000);
    const spread = Array.from({ length: 1000 }, () => backoffDelay(40, opts));
    expect(Math.min(...spread)).toBeLessThan(3_000);
    expect(Math.max(...spread)).toBeGreaterThan(27_000);
  });
});

describe('tokenClaims', () => {
  const jwt = (payload: object) => `e30.${Buffer.from(JSON.stringify(payload)).toString('base64url')}.sig`;
  it('reads sub and exp, also from non-ASCII payloads', () => {
    expect(tokenClaims(jwt({ sub: 'zoë', exp: 123, name: '日本' }))).toEqual({ sub: 'zoë', exp: 123 });
  });
  it('gives nothing for what is not a JWT', () => {
    expect(tokenClaims('nope')).toEqual({});
    expect(tokenClaims('a.%%%.c')).toEqual({});
  });
});
