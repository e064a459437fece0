import type { Clock, Deps } from '#shared/ports/runtime.ts';
import type { TableClient } from '#shared/adapters/dynamodb/client.ts';
import { configFromEnv } from './config.ts';
import { createAttachmentDeps, createDeps, createTableClient, systemClock, type Clients, type DepsOptions } from './compose.ts';

/**
 * The Lambda composition root: the ports are built from the environment on first use and reused
 * by later invocations of the container. A host running the handlers in its own process (the
 * benchmark) may set options first.
 */
let options: DepsOptions = {};
let base: ReturnType<typeof createTableClient> | undefined;
let built: ReturnType<typeof createDeps> | undefined;
let builtAttachments: { deps: Pick<Deps, 'attachments'>; clients: Clients } | undefined;
let fanOutDeps: Deps | undefined;

// The table alone first: a function that uses one store or two (getTable) then bundles no other.
const buildTable = () => (base ??= createTableClient(configFromEnv(), options));
const build = () => (built ??= createDeps(configFromEnv(), options, buildTable()));

export function getDeps(): Deps {
  return build().deps;
}

/** The stream fan-out's ports: getDeps() with the workers a large room's posts are split across, where configured. */
export function getFanOutDeps(): Deps {
  const { deps, workers } = build();
  return workers ? (fanOutDeps ??= { ...deps, workers }) : deps;
}

/** The attachment ports alone (`getDeps().attachments` in a function that needs no other port). */
export function getAttachmentDeps(): Pick<Deps, 'attachments'> {
  return (builtAttachments ??= createAttachmentDeps(configFromEnv(), options)).deps;
}

/** The clients `getDeps()` is built on. */
export function getClients(): Clients {
  return buildTable().clients;
}

/** The table client the stores share (its retries and metering): stores built elsewhere use it too. */
export function getTable(): TableClient {
  return buildTable().table;
}

/** The clock the ports are built with (a host's, set by configureDeps, or the system's). */
export function getClock(): Clock {
  return options.clock ?? systemClock;
}

/** The options set by configureDeps (a host's observers, told of what handlers in its threads did too). */
export function depsOptions(): Readonly<DepsOptions> {
  return options;
}

/** Options for the next build; the ports already built are dropped (their clients with them). */
export function configureDeps(next: DepsOptions): void {
  for (const { clients } of [base, builtAttachments].filter((b) => b !== undefined)) {
    // Only the clients built here are closed: given ones are their owner's.
    if (clients.dynamo !== options.clients?.dynamo) clients.dynamo.destroy();
    if (clients.management !== options.clients?.management) clients.management?.destroy();
  }
  built?.workers?.destroy();
  base = undefined;
  built = undefined;
  builtAttachments = undefined;
  fanOutDeps = undefined;
  options = next;
}
