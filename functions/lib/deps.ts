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
let core: ReturnType<typeof createCore> | undefined;
/** Each wiring's ports, built once: functions of one process (locally) composing the same part share it. */
const parts = new Map<Wiring, { port: OptionalPort; built: Partial<Deps> }>();
/** Each composition, by the ports it was given: a function gets exactly the ports its handler asked for, in one process or many. */
const composed = new Map<string, Deps>();
let builtAttachments: { deps: Pick<Deps, 'attachments'>; clients: Clients } | undefined;

// The table alone first: a function that uses one store or two (getTable) then bundles no other.
const buildTable = () => (base ??= createTableClient({ tableName: requireEnv(ENV.tableName) }, options));
const buildCore = () => (core ??= createCore(configFromEnv(), options, buildTable()));

function part(wiring: Wiring) {
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
  let deps = composed.get(key);
  if (!deps) {
    const { core: ports, ctx } = buildCore();
    composed.set(key, (deps = assemble(ctx.config, ports, wirings.map(part))));
  }
  return deps;
}

/** The attachment ports alone (`getDeps(withAttachments).attachments` in a function that needs no other port). */
export function getAttachmentDeps(): Pick<Deps, 'attachments'> {
  return (builtAttachments ??= createAttachmentDeps(attachmentConfigFromEnv(), options)).deps;
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
  for (const { clients } of [base, builtAttachments].filter((b) => b !== undefined)) {
    // Only the clients built here are closed: given ones are their owner's.
    if (clients.dynamo !== options.clients?.dynamo) clients.dynamo.destroy();
    if (clients.management !== options.clients?.management) clients.management?.destroy();
  }
  // The fan-out's workers (the Lambda client they may have loaded).
  for (const { built } of parts.values()) (built.workers as { destroy?: () => void } | undefined)?.destroy?.();
  base = undefined;
  core = undefined;
  parts.clear();
  composed.clear();
  builtAttachments = undefined;
  options = next;
}
