import type { NotifyDeps } from '#shared/domain/notifications.ts';
import type { EventPublisher } from '#shared/ports/events.ts';
import { DynamoNotificationStore } from '#shared/adapters/dynamodb/notification-store.ts';
import { EventBridgePublisher } from '#shared/adapters/eventbridge/publisher.ts';
import { WebPushSender } from '#shared/adapters/webpush/sender.ts';
import { seedFromSecret, vapidKeysFromSeed } from '#shared/adapters/webpush/vapid.ts';
import { ENV, intSetting, requireEnv } from '#shared/env.ts';
import { getDeps, getTable } from './deps.ts';

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

let built: { deps: NotifyDeps; config: NotifyConfig; core: object } | undefined;

function build() {
  const core = getDeps();
  // Rebuilt when the core ports were (configureDeps): they share its clients and meter.
  if (built?.core === core) return built;
  const config = notifyConfigFromEnv();
  // Both places publish through the SDK's EventBridge client (locally, to the runtime's EventBridge).
  const events: EventPublisher = config.eventBusName
    ? new EventBridgePublisher(config.eventBusName)
    : { publish: async () => void requireEnv(ENV.eventBusName) };
  const deps: NotifyDeps = {
    ...core,
    notifications: new DynamoNotificationStore(getTable()),
    events,
    push: new WebPushSender(
      // Read under the function's own grant, once per container (locally: one process, one read).
      async () => vapidKeysFromSeed(await seedFromSecret(config.vapidSecretArn ?? requireEnv(ENV.vapidSecretArn))),
      config.vapidSubject,
      { allowLoopback: config.allowLoopback },
    ),
    notifySettings: { coalesceSeconds: config.coalesceSeconds },
  };
  return (built = { deps, config, core });
}

/** The core ports plus notifications, outbound events and Web Push, built on the same clients. */
export function getNotifyDeps(): NotifyDeps {
  return build().deps;
}

export function getNotifyConfig(): NotifyConfig {
  return build().config;
}

/** Drops what was built, so the next call reads the environment again (a host reconfiguring, as configureDeps). */
export function resetNotifyDeps(): void {
  built = undefined;
}
