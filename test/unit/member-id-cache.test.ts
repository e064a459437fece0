import { describe, expect, it } from 'vitest';
import { MemberIdCache } from '#shared/adapters/dynamodb/member-id-cache.ts';

/** A cache on a clock the test moves. */
function cacheOf(maxIds: number, ttlMs = 1000) {
  const clock = { at: 0 };
  return { cache: new MemberIdCache(maxIds, ttlMs, () => clock.at), clock };
}

describe('the member ids a fan-out keeps', () => {
  it('serve only the version they were read for, and only once read strongly consistent (a first message is only noted)', () => {
    const { cache } = cacheOf(100);
    expect(cache.lookup('r', 3)).toBeUndefined();
    cache.remember('r', 3);
    expect(cache.lookup('r', 3)).toEqual({});
    cache.remember('r', 3, ['a', 'b']);
    expect(cache.lookup('r', 3)).toEqual({ ids: ['a', 'b'] });
    expect(cache.lookup('r', 4)).toBeUndefined();
    expect(cache.lookup('r', 2)).toBeUndefined();
    expect(cache.lookup('other', 3)).toBeUndefined();
  });

  it('are not put back by an older version while a newer one is fresh; a newer one replaces them', () => {
    const { cache, clock } = cacheOf(100);
    cache.remember('r', 5, ['a', 'b']);
    cache.remember('r', 4, ['a']);
    expect(cache.lookup('r', 5)).toEqual({ ids: ['a', 'b'] });
    expect(cache.lookup('r', 4)).toBeUndefined();
    cache.remember('r', 6, ['a', 'b', 'c']);
    expect(cache.lookup('r', 5)).toBeUndefined();
    expect(cache.lookup('r', 6)).toEqual({ ids: ['a', 'b', 'c'] });
    // Once the newer one is stale, what is read now counts, whatever its version.
    clock.at = 1000;
    cache.remember('r', 4, ['a']);
    expect(cache.lookup('r', 4)).toEqual({ ids: ['a'] });
  });

  it('serve for the time they were read for, however often they are used', () => {
    const { cache, clock } = cacheOf(100, 1000);
    cache.remember('r', 1, ['a']);
    clock.at = 999;
    expect(cache.lookup('r', 1)).toEqual({ ids: ['a'] });
    clock.at = 1000;
    expect(cache.lookup('r', 1)).toBeUndefined();
    // A note of a seen version expires too: the next message is a first again.
    cache.remember('q', 1);
    clock.at = 2000;
    expect(cache.lookup('q', 1)).toBeUndefined();
  });

  it('hold at most their bound of ids, giving up the room used longest ago, and never a room above the bound', () => {
    const { cache } = cacheOf(5);
    cache.remember('r1', 1, ['a', 'b']);
    cache.remember('r2', 1, ['c', 'd']);
    // r1 used: r2 is now the one used longest ago.
    expect(cache.lookup('r1', 1)).toEqual({ ids: ['a', 'b'] });
    cache.remember('r3', 1, ['e', 'f']);
    expect(cache.lookup('r2', 1)).toBeUndefined();
    expect(cache.lookup('r1', 1)).toEqual({ ids: ['a', 'b'] });
    expect(cache.lookup('r3', 1)).toEqual({ ids: ['e', 'f'] });
    cache.remember('big', 1, ['1', '2', '3', '4', '5', '6']);
    expect(cache.lookup('big', 1)).toBeUndefined();
    // Replacing a room's ids gives back what its old ones took.
    cache.remember('r1', 2, ['a']);
    cache.remember('r4', 1, ['g', 'h']);
    expect([cache.lookup('r1', 2), cache.lookup('r3', 1), cache.lookup('r4', 1)]).toEqual([{ ids: ['a'] }, { ids: ['e', 'f'] }, { ids: ['g', 'h'] }]);
  });
});
