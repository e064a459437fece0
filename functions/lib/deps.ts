import type { Clock, Deps } from '#shared/ports/runtime.ts';
import type { TableClient } from '#shared/adapters/dynamodb/client.ts';
import { ENV, requireEnv } from '#shared/env.ts';
import { attachmentConfigFromEnv, configFromEnv } from './config.ts';
import { assemble, createAttachmentDeps, createCore, createTableClient, systemClock, type Clients, type DepsOptions, type OptionalPort, type Wiring } from './compose.ts';

/** The optional parts a handler composes, beside getDeps. */
export { fanOutWirings, withAttachments, withBroadcaster, withConnections, withCursors, withLevelCopies, withRateLimits, withTyping, withWorkers } from './compose.ts';

/**
 * The Lambda composition root: the ports are built from the environment on first use and reused
 * by later invocations of the container. A host running the handlers in its own process (the
 * local runtime's threads, the benchmark) may set options first.
 */
let options: DepsOptions = {};
let base: ReturnType<typeof createTableClient> | undefined;

/**
 * What a container keeps between invocations: the ports and their caches (the live lists' marker,
 * member ids, a secret). In Lambda a process is one function's container; a host running several
 * functions in one process names the container of the moment (`containersBy`), so that no
 * function finds what another read, as none could in AWS (and each read is made under its own
 * grants). The table client, a pool of sockets, is the process's.
 */
interface Container {
  core?: ReturnType<typeof createCore>;
  /** Each wiring's ports, built once: the functions' compositions in this container that name it share them. */
  parts: Map<Wiring, { port: OptionalPort; built: Partial<Deps> }>;
  /** Each composition, by the ports it was given: a function gets exactly the ports its handler asked for. */
  composed: Map<string, Deps>;
  attachments?: { deps: Pick<Deps, 'attachments'>; clients: Clients };
}
let containerName: () => string | undefined = () => undefined;
const containers = new Map<string, Container>();

function container(): Container {
  const name = containerName() ?? '';
  let c = containers.get(name);
  if (!c) containers.set(name, (c = { parts: new Map(), composed: new Map() }));
  return c;
}

/** A host running several functions in one process: `name` says whose invocation is running (undefined: the host's own). */
export function containersBy(name: () => string | undefined): void {
  containerName = name;
}

/** The container of the moment, as a key for what other composition roots keep per container (notify-deps.ts). */
export function containerKey(): object {
  return container();
}

// The table alone first: a function that uses one store or two (getTable) then bundles no other.
const buildTable = () => (base ??= createTableClient({ tableName: requireEnv(ENV.tableName) }, options));
function buildCore() {
  const c = container();
  return (c.core ??= createCore(configFromEnv(), options, buildTable()));
}

function part(wiring: Wiring) {
  const { parts } = container();
  let p = parts.get(wiring);
  if (!p) parts.set(wiring, (p = { port: wiring.port, built: wiring.build(buildCore().ctx) }));
  return p;
}

/**
 * The ports of a function: the core ones (rooms, messages, clock, ids, settings) and
 * those of `wirings`, which its handler passes (`getDeps(withConnections, withBroadcaster)`), so that
 * its bundle carries no other adapter. A port it uses without composing it throws, naming the port.
 */
export function getDeps(...wirings: Wiring[]): Deps {
  const key = wirings.map((w) => w.port).sort().join(',');
  const { composed } = container();
  let deps = composed.get(key);
  if (!deps) {
    const { core: ports, ctx } = buildCore();
    composed.set(key, (deps = assemble(ctx.config, ports, wirings.map(part))));
  }
  return deps;
}

/** The attachment ports alone (`getDeps(withAttachments).attachments` in a function that needs no other port). */
export function getAttachmentDeps(): Pick<Deps, 'attachments'> {
  const c = container();
  return (c.attachments ??= createAttachmentDeps(attachmentConfigFromEnv(), options)).deps;
}

/** The clients the ports are built on. */
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
  const all = [...containers.values()];
  for (const { clients } of [base, ...all.map((c) => c.attachments)].filter((b) => b !== undefined)) {
    // Only the clients built here are closed: given ones are their owner's.
    if (clients.dynamo !== options.clients?.dynamo) clients.dynamo.destroy();
    if (clients.management !== options.clients?.management) clients.management?.destroy();
  }
  // The fan-out's workers (the Lambda client they may have loaded).
  for (const { parts } of all) for (const { built } of parts.values()) (built.workers as { destroy?: () => void } | undefined)?.destroy?.();
  base = undefined;
  containers.clear();
  options = next;
}
