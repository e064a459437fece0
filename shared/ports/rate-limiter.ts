export interface RateRule {
  /** Writes allowed per window; 0 = unlimited. */
  limit: number;
  windowSeconds: number;
}

/** The per-user limits: `send` for messages, `write` for other writes, `search` for searches. */
export interface RateLimits {
  send: RateRule;
  write: RateRule;
  search: RateRule;
}

/** A fixed-window counter: `retryAfter` seconds when the window's budget is spent, else 0. */
export interface RateLimiter {
  take(userId: string, kind: string, rule: RateRule): Promise<number>;
}
