import { keys } from './keys.ts';

/**
 * A per-user fixed-window counter: `n` writes so far in the window starting at `windowStart`
 * (epoch seconds). Only ever written by an `ADD` (rate-limiter.ts) and never read back as a
 * record, so it has a key and nothing else.
 */
export const rate = {
  key: (userId: string, kind: string, windowStart: number) => keys.rate(userId, kind, windowStart),
  /** When DynamoDB may delete the counter: a minute after its window closed. */
  expiresAt: (windowStart: number, windowSeconds: number) => windowStart + windowSeconds + 60,
};
