import type { RateLimiter, RateRule } from '#shared/ports/rate-limiter.ts';
import type { Clock } from '#shared/ports/runtime.ts';
import { unlessConditionFails, type TableClient } from './client.ts';
import { rate } from './entities/rate.ts';
import { ENTITY, TABLE } from './table.ts';

/** Fixed-window counters, one item per user, kind and window: one conditional write per call. */
export class DynamoRateLimiter implements RateLimiter {
  constructor(
    private readonly table: TableClient,
    private readonly clock: Clock,
  ) {}

  async take(userId: string, kind: string, rule: RateRule): Promise<number> {
    if (rule.limit <= 0) return 0;
    const nowS = this.clock.now().getTime() / 1000;
    const windowStart = Math.floor(nowS / rule.windowSeconds) * rule.windowSeconds;
    const out = await unlessConditionFails(
      this.table.update('rateTake', {
        Key: rate.key(userId, kind, windowStart),
        UpdateExpression: 'ADD #n :one SET #et = :et, #ttl = :ttl',
        ConditionExpression: 'attribute_not_exists(#n) OR #n < :limit',
        ExpressionAttributeNames: { '#n': 'n', '#et': TABLE.entityAttribute, '#ttl': TABLE.ttlAttribute },
        ExpressionAttributeValues: { ':one': 1, ':limit': rule.limit, ':et': ENTITY.rate, ':ttl': rate.expiresAt(windowStart, rule.windowSeconds) },
      }),
    );
    return out === false ? Math.max(1, Math.ceil(windowStart + rule.windowSeconds - nowS)) : 0;
  }
}
