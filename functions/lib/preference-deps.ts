import type { PreferenceDeps } from '#shared/domain/notifications.ts';
import type { PushSender } from '#shared/ports/notifications.ts';
import { DynamoNotificationStore } from '#shared/adapters/dynamodb/notification-store.ts';
import { DynamoRoomStore } from '#shared/adapters/dynamodb/room-store.ts';
import { DynamoPreferenceWriter } from '#shared/adapters/dynamodb/preference-writer.ts';
import { seedFromSecret, vapidKeysFromSeed, type VapidKeys } from '#shared/adapters/webpush/vapid.ts';
import { ENV, intSetting, requireEnv } from '#shared/env.ts';
import { containerKey, getClock, getTable } from './deps.ts';

/**
 * The notification side's composition for the functions that store preferences and subscriptions
 * and never push: the stores they use on the shared table client, and the VAPID public key. The
 * push sender (the payload encryption, the JWT) and the bus are composed in notify-deps.ts, which
 * only the events consumer loads, so these functions' bundles carry neither.
 */

/** Where notification settings and keys come from; read once per container, like the rest of the config. */
export interface NotifyConfig {
  /** Undefined: a deployment error, thrown at the first publish. */
  eventBusName?: string;
  /** The secret the VAPID key pair is derived from; undefined: a deployment error, thrown at first use. */
  vapidSecretArn?: string;
  vapidSubject: string;
  allowLoopback: boolean;
  coalesceSeconds: number;
}

export const DEFAULT_VAPID_SUBJECT = 'mailto:push@parley.invalid';

export function notifyConfigFromEnv(env: NodeJS.ProcessEnv = process.env): NotifyConfig {
  const secretArn = env[ENV.vapidSecretArn];
  const busName = env[ENV.eventBusName];
  return {
    ...(busName && { eventBusName: busName }),
    ...(secretArn && { vapidSecretArn: secretArn }),
    vapidSubject: env[ENV.vapidSubject] || DEFAULT_VAPID_SUBJECT,
    allowLoopback: env[ENV.pushAllowLoopback] === '1',
    coalesceSeconds: intSetting(ENV.notifyCoalesceSeconds, 30, env),
  };
}

/**
 * The VAPID key pair, read under the function's own grant once per container (locally too: each
 * function is its own, deps.ts); a failed read is tried again by the next caller.
 */
export function vapidKeyLoader(config: NotifyConfig): () => Promise<VapidKeys> {
  let keys: Promise<VapidKeys> | undefined;
  return () =>
    (keys ??= seedFromSecret(config.vapidSecretArn ?? requireEnv(ENV.vapidSecretArn)).then(vapidKeysFromSeed, (err: unknown) => {
      keys = undefined;
      throw err;
    }));
}

/** Built once a container (deps.ts), whose ports configureDeps drops: the stores share the table client and meter. */
const builds = new WeakMap<object, { deps: PreferenceDeps; config: NotifyConfig; vapid: { push: Pick<PushSender, 'publicKey'> } }>();

function build() {
  const key = containerKey();
  const built = builds.get(key);
  if (built) return built;
  const table = getTable();
  const config = notifyConfigFromEnv();
  const keys = vapidKeyLoader(config);
  const made = {
    deps: { rooms: new DynamoRoomStore(table), notifications: new DynamoNotificationStore(table, new DynamoPreferenceWriter(table)), clock: getClock() },
    config,
    vapid: { push: { publicKey: async () => (await keys()).publicKey } },
  };
  builds.set(key, made);
  return made;
}

/** The rooms (for membership) and notification stores and the clock: all the preference and subscription routes use. */
export function getPreferenceDeps(): PreferenceDeps {
  return build().deps;
}

/** The VAPID public key alone (derived from the secret's seed; nothing is signed here). */
export function getVapidKeyDeps(): { push: Pick<PushSender, 'publicKey'> } {
  return build().vapid;
}

export function getNotifyConfig(): NotifyConfig {
  return build().config;
}
