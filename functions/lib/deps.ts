import type { Deps } from '#shared/ports/runtime.ts';
import { configFromEnv } from './config.ts';
import { createDeps, type Clients, type DepsOptions } from './compose.ts';

/**
 * The Lambda composition root: the ports are built from the environment on first use and reused
 * by later invocations of the container. A host running the handlers in its own process (the
 * benchmark) may set options first.
 */
let options: DepsOptions = {};
let built: { deps: Deps; clients: Clients } | undefined;

const build = () => (built ??= createDeps(configFromEnv(), options));

export function getDeps(): Deps {
  return build().deps;
}

/** The SDK clients `getDeps()` is built on. */
export function getClients(): Clients {
  return build().clients;
}

/** Options for the next build; the ports already built are dropped (their clients with them). */
export function configureDeps(next: DepsOptions): void {
  if (built) {
    // Only the clients built here are closed: given ones are their owner's.
    const { dynamo, management } = built.clients;
    if (dynamo !== options.clients?.dynamo) dynamo.destroy();
    if (management !== options.clients?.management) management?.destroy();
  }
  built = undefined;
  options = next;
}
