import type { NotifyDeps } from '#shared/domain/notifications.ts';
import type { EventPublisher } from '#shared/ports/events.ts';
import type { PushSender } from '#shared/ports/notifications.ts';
import { DynamoNotificationStore } from '#shared/adapters/dynamodb/notification-store.ts';
import { EventBridgePublisher } from '#shared/adapters/eventbridge/publisher.ts';
import { ENV, requireEnv } from '#shared/env.ts';
import { containerKey, getDeps, getTable, withConnections } from './deps.ts';
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

/** Built once a container (deps.ts), whose ports configureDeps drops: they share its clients and meter. */
const builds = new WeakMap<object, { deps: NotifyDeps; config: NotifyConfig }>();

function build() {
  const key = containerKey();
  const built = builds.get(key);
  if (built) return built;
  const core = getDeps(withConnections);
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
  const made = { deps, config };
  builds.set(key, made);
  return made;
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
