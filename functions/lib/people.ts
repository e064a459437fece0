import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { PeopleDeps } from '#shared/ports.ts';
import { DynamoPeopleStore } from '#shared/adapters/dynamodb/people-store.ts';
import { capacitySink } from '#shared/adapters/dynamodb/capacity.ts';
import { ENV, intSetting, requireEnv, type EnvName } from '#shared/env.ts';
import { RATE_DEFAULTS } from '#shared/domain/rate-limit.ts';

/** Membership, presence and rate-limit ports, with the limits an operator set (shared/env.ts). */
export function createPeopleDeps(dynamo: DynamoDBClient): PeopleDeps {
  const store = new DynamoPeopleStore(dynamo, requireEnv(ENV.tableName), capacitySink);
  const rule = (kind: keyof typeof RATE_DEFAULTS, limit: EnvName, window: EnvName) => ({
    limit: intSetting(limit, RATE_DEFAULTS[kind].limit),
    windowSeconds: Math.max(1, intSetting(window, RATE_DEFAULTS[kind].windowSeconds)),
  });
  return {
    store,
    rateLimiter: store,
    limits: {
      send: rule('send', ENV.sendRateLimit, ENV.sendRateWindowSeconds),
      write: rule('write', ENV.writeRateLimit, ENV.writeRateWindowSeconds),
      search: rule('search', ENV.searchRateLimit, ENV.searchRateWindowSeconds),
    },
  };
}
