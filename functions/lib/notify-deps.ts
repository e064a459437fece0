import type { NotifyDeps } from '#shared/domain/notifications.ts';
import type { EventPublisher } from '#shared/ports/events.ts';
import type { PushSender } from '#shared/ports/notifications.ts';
import { DynamoNotificationStore } from '#shared/adapters/dynamodb/notification-store.ts';
import { EventBridgePublisher } from '#shared/adapters/eventbridge/publisher.ts';
import { ENV, requireEnv } from '#shared/env.ts';
import { getDeps, getTable, withConnections } from './deps.ts';
import { notifyConfigFromEnv, vapidKeyLoader, type NotifyConfig } from './preference-deps.ts';

/**
 * The Web Push sender, loaded with the first push (its payload encryption and request code are
 * evaluated then, not with the function: most records notify nobody).
 */
function lazyPushSender(config: NotifyConfig): PushSender {
  let loading: Promise<PushSender> | undefined;
  const load = () =>
    (loading ??= import('#shared/adapters/webpush/sender.ts').then(
      ({ WebPushSender }) => new WebPushSender(vapidKeyLoader(config), config.vapidSubject, { allowLoopback: config.allowLoopback }),
      (err: unknown) => {
        loading = undefined;
        throw err;
      },
    ));
  return {
    publicKey: async () => (await load()).publicKey(),
    send: async (sub, payload, options) => (await load()).send(sub, payload, options),
  };
}

let built: { deps: NotifyDeps; config: NotifyConfig; core: object } | undefined;

function build() {
  const core = getDeps(withConnections);
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
    push: lazyPushSender(config),
    notifySettings: { coalesceSeconds: config.coalesceSeconds },
  };
  return (built = { deps, config, core });
}

/**
 * The core ports plus notifications, outbound events and Web Push, built on the same clients: the
 * events consumer's, the one function that pushes (the routes compose preference-deps.ts).
 */
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
