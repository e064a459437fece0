import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { eventsFilterPatterns } from '#shared/adapters/dynamodb/event-stream.ts';
import { eventsStreamFn } from '#infra/routes.ts';
import { startStreamConsumer, type ConsumerWiring, type StreamPoller } from './stream-poller.ts';

/**
 * The outbound-events consumer, a stream consumer of its own as in AWS (its own event source
 * mapping): a slow bus holds back events, never live fan-out. Unlike the fan-out it never gives up
 * on a record (a refused put is retried until the bus takes it; in AWS, for a day): events are at
 * least once and in order per room, and consumers drop repeats by id.
 */
export function startEventsConsumer(wiring: ConsumerWiring): Promise<StreamPoller> {
  return startStreamConsumer(wiring, eventsStreamFn, {
    filterPatterns: eventsFilterPatterns,
    maxRetryAttempts: Number.POSITIVE_INFINITY,
    logger: { warn: () => undefined, error: (...args: unknown[]) => console.error('[events]', ...args) },
  });
}

/**
 * The seed the VAPID key pair is derived from (the stack's secret in AWS): kept in the data dir so
 * browser subscriptions survive a restart, or made per process in memory.
 */
export function localVapidSeed(dataDir: string | undefined): string {
  if (!dataDir) return randomBytes(32).toString('base64url');
  const file = path.join(dataDir, 'vapid-seed');
  if (existsSync(file)) return readFileSync(file, 'utf8').trim();
  mkdirSync(dataDir, { recursive: true });
  const seed = randomBytes(32).toString('base64url');
  writeFileSync(file, seed, { mode: 0o600 });
  return seed;
}
