import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { PeopleDeps } from '#shared/ports.ts';
import { DynamoPeopleStore } from '#shared/adapters/dynamodb/people-store.ts';
import { capacitySink } from '#shared/adapters/dynamodb/capacity.ts';
import { ENV, intSetting, requireEnv } from '#shared/env.ts';
import { RATE_DEFAULTS } from '#shared/domain/rate-limit.ts';

/** Membership, presence and rate-limit ports, with the limits an operator set (shared/env.ts). */
export function createPeopleDeps(dynamo: DynamoDBClient): PeopleDeps {
  const store = new DynamoPeopleStore(dynamo, requireEnv(ENV.tableName), capacitySink);
  const window = (name: typeof ENV.sendRateWindowSeconds | typeof ENV.writeRateWindowSeconds, fallback: number) => Math.max(1, intSetting(name, fallback));
  return {
    store,
    rateLimiter: store,
    limits: {
      send: { limit: intSetting(ENV.sendRateLimit, RATE_DEFAULTS.send.limit), windowSeconds: window(ENV.sendRateWindowSeconds, RATE_DEFAULTS.send.windowSeconds) },
      write: { limit: intSetting(ENV.writeRateLimit, RATE_DEFAULTS.write.limit), windowSeconds: window(ENV.writeRateWindowSeconds, RATE_DEFAULTS.write.windowSeconds) },
    },
  };
}
