import { randomBytes } from 'node:crypto';
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { NotifyDeps } from '#shared/domain/notifications.ts';
import type { EventPublisher } from '#shared/ports/events.ts';
import { DynamoNotificationStore } from '#shared/adapters/dynamodb/notification-store.ts';
import { EventBridgePublisher } from '#shared/adapters/eventbridge/publisher.ts';
import { discardingPublisher, WebhookPublisher } from '#shared/adapters/webhook/publisher.ts';
import { WebPushSender } from '#shared/adapters/webpush/sender.ts';
import { seedFromSecret, vapidKeysFromSeed } from '#shared/adapters/webpush/vapid.ts';
import { ENV, intSetting } from '#shared/env.ts';
import { getDeps, getTable } from './deps.ts';

/** Where notification settings and keys come from; read once per container, like the rest of the config. */
export interface NotifyConfig {
  eventBusName?: string;
  eventsUrl?: string;
  vapid: { secretArn: string } | { seed: string };
  vapidSubject: string;
  allowLoopback: boolean;
  coalesceSeconds: number;
}

export const DEFAULT_VAPID_SUBJECT = 'mailto:push@parley.invalid';

export function notifyConfigFromEnv(env: NodeJS.ProcessEnv = process.env): NotifyConfig {
  const secretArn = env[ENV.vapidSecretArn];
  const busName = env[ENV.eventBusName];
  const eventsUrl = env[ENV.eventsUrl];
  return {
    ...(busName && { eventBusName: busName }),
    ...(eventsUrl && { eventsUrl }),
    // Without either (a host running the handlers bare), keys live as long as the process.
    vapid: secretArn ? { secretArn } : { seed: env[ENV.vapidSeed] || (env[ENV.vapidSeed] = randomBytes(32).toString('base64url')) },
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
  const events: EventPublisher = config.eventBusName
    ? new EventBridgePublisher(new EventBridgeClient({}), config.eventBusName)
    : config.eventsUrl
      ? new WebhookPublisher(config.eventsUrl)
      : discardingPublisher;
  const vapid = config.vapid;
  const deps: NotifyDeps = {
    ...core,
    notifications: new DynamoNotificationStore(getTable()),
    events,
    push: new WebPushSender(
      async () => vapidKeysFromSeed('seed' in vapid ? vapid.seed : await seedFromSecret(vapid.secretArn)),
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
