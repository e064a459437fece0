import type { Deps } from '#shared/ports/runtime.ts';
import { configFromEnv } from './config.ts';
import { createDeps, type Clients, type DepsOptions } from './compose.ts';
import type { TableClient } from '#shared/adapters/dynamodb/client.ts';

/**
 * The Lambda composition root: the ports are built from the environment on first use and reused
 * by later invocations of the container. A host running the handlers in its own process (the
 * benchmark) may set options first.
 */
let options: DepsOptions = {};
let built: ReturnType<typeof createDeps> | undefined;
let fanOutDeps: Deps | undefined;

const build = () => (built ??= createDeps(configFromEnv(), options));

export function getDeps(): Deps {
  return build().deps;
}

/** The stream fan-out's ports: getDeps() with the workers a large room's posts are split across, where configured. */
export function getFanOutDeps(): Deps {
  const { deps, workers } = build();
  return workers ? (fanOutDeps ??= { ...deps, workers }) : deps;
}

/** The SDK clients `getDeps()` is built on. */
export function getClients(): Clients {
  return build().clients;
}

/** The table client the stores share (its retries and metering): stores built elsewhere use it too. */
export function getTable(): TableClient {
  return build().table;
}

/** Options for the next build; the ports already built are dropped (their clients with them). */
export function configureDeps(next: DepsOptions): void {
  if (built) {
    // Only the clients built here are closed: given ones are their owner's.
    const { dynamo, management } = built.clients;
    if (dynamo !== options.clients?.dynamo) dynamo.destroy();
    if (management !== options.clients?.management) management.destroy();
    built.workers?.destroy();
  }
  built = undefined;
  fanOutDeps = undefined;
  options = next;
}
