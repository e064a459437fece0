import { ulid } from 'ulid';
import type { Deps, Clock, Ids } from '#shared/ports/runtime.ts';
import type { Broadcaster } from '#shared/ports/broadcaster.ts';
import { TableClient, type CapacityMeter } from '#shared/adapters/dynamodb/client.ts';
import { DynamoDbApi } from '#shared/adapters/dynamodb/dynamodb-api.ts';
import { DynamoRoomStore } from '#shared/adapters/dynamodb/room-store.ts';
import { DynamoLevelCopier } from '#shared/adapters/dynamodb/level-copies.ts';
import { DynamoMessageStore } from '#shared/adapters/dynamodb/message-store.ts';
import { DynamoTypingStore } from '#shared/adapters/dynamodb/typing-store.ts';
import { DynamoConnectionStore } from '#shared/adapters/dynamodb/connection-store.ts';
import { DynamoRateLimiter } from '#shared/adapters/dynamodb/rate-limiter.ts';
import { DynamoAttachmentStore } from '#shared/adapters/dynamodb/attachment-store.ts';
import type { PostListener } from '#shared/adapters/apigw/broadcaster.ts';
import type { ConnectionsApi } from '#shared/adapters/apigw/connections-api.ts';
import { S3BlobStore } from '#shared/adapters/s3/blob-store.ts';
import { LambdaFanOutWorkers } from '#shared/adapters/lambda/fanout-workers.ts';
import { cursorKeyFromEnv } from '#shared/adapters/secrets/cursor-key.ts';
import type { DepsConfig } from './config.ts';

/**
 * The clients the ports are built on: the functions' own DynamoDB and `@connections` clients. The
 * `@connections` client is built with the first frame posted (most routes post none), the S3
 * client by its store on first use.
 */
export interface Clients {
  dynamo: DynamoDbApi;
  management?: ConnectionsApi;
}

export interface DepsOptions {
  /** Clients to build on instead of new ones (e.g. carrying middleware of the caller's). */
  clients?: Partial<Clients>;
  /**
   * Hears every DynamoDB call the stores make, with the capacity it consumed: a benchmark's or a
   * test's `meterCapacity(listener)` (capacity.ts, which the functions' bundles then leave out).
   */
  meter?: CapacityMeter;
  /** Hears every frame posted to a connection. */
  onPost?: PostListener;
  clock?: Clock;
  ids?: Ids;
}

export const systemClock: Clock = {
  now: () => new Date(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
};

export const ulids: Ids = { newId: () => ulid() };

/** New clients (but those given): region, credentials and endpoint overrides from the environment, as the SDK's. */
export function createClients(given: Partial<Clients> = {}): Clients {
  return { dynamo: given.dynamo ?? new DynamoDbApi(), ...(given.management && { management: given.management }) };
}

/**
 * The `@connections` broadcaster, loaded with its client on the first frame posted: only the
 * routes that post pay for loading it, and they pay once (no extra await after that).
 */
function lazyBroadcaster(config: DepsConfig, clients: Clients, onPost?: PostListener): Broadcaster {
  let ready: Broadcaster | undefined;
  let loading: Promise<Broadcaster> | undefined;
  const load = () =>
    (loading ??= Promise.all([import('./management-client.ts'), import('#shared/adapters/apigw/broadcaster.ts')]).then(
      ([client, adapter]) => {
        clients.management ??= client.createManagementClient(config.wsCallbackUrl);
        return (ready = new adapter.ApiGatewayBroadcaster(clients.management, onPost));
      },
      (err: unknown) => {
        loading = undefined;
        throw err;
      },
    ));
  return {
    send: (connectionId, frame) => (ready ? ready.send(connectionId, frame) : load().then((b) => b.send(connectionId, frame))),
    post: (connectionId, prepared) => (ready ? ready.post(connectionId, prepared) : load().then((b) => b.post(connectionId, prepared))),
    disconnect: (connectionId) => (ready ? ready.disconnect(connectionId) : load().then((b) => b.disconnect(connectionId))),
  };
}

/** The table client alone, with the DynamoDB client it is built on: what a function needing only a store or two composes from. */
export function createTableClient(config: Pick<DepsConfig, 'tableName'>, options: DepsOptions = {}): { clients: Clients; table: TableClient } {
  const clients = createClients(options.clients);
  return { clients, table: new TableClient(clients.dynamo, config.tableName, options.meter, (options.clock ?? systemClock).sleep) };
}

/** What a wiring builds its ports from: the one table client and clients every port of the process shares. */
export interface WiringContext {
  config: DepsConfig;
  options: DepsOptions;
  clients: Clients;
  table: TableClient;
  clock: Clock;
}

/** The ports every function gets: the stores of rooms and messages, the runtime's clock, ids and settings. */
export type CorePorts = Omit<Deps, OptionalPort>;
/** The ports a function gets only when it composes them (its handler passes their wiring). */
export type OptionalPort = 'connections' | 'typing' | 'broadcaster' | 'attachments' | 'workers' | 'cursorKey' | 'levelCopies' | 'rateLimiter';

/**
 * One optional part of a function's ports, passed by the handlers that use it to `getDeps`: a
 * function's bundle then carries the adapters of the ports it uses and no other.
 */
export interface Wiring<K extends OptionalPort = OptionalPort> {
  readonly port: K;
  /** Nothing where the deployment configures none (attachments without a bucket, workers without their function). */
  build(ctx: WiringContext): Partial<Pick<Deps, K>>;
}

/** Connections and presence (DynamoDB). */
export const withConnections: Wiring<'connections'> = {
  port: 'connections',
  build: ({ table, clock }) => ({ connections: new DynamoConnectionStore(table, clock) }),
};

/** Who is typing (DynamoDB). */
export const withTyping: Wiring<'typing'> = { port: 'typing', build: ({ table }) => ({ typing: new DynamoTypingStore(table) }) };

/** Frames posted to connections (`@connections`), the broadcaster and its client loaded with the first frame. */
export const withBroadcaster: Wiring<'broadcaster'> = {
  port: 'broadcaster',
  build: ({ config, clients, options }) => ({ broadcaster: lazyBroadcaster(config, clients, options.onPost) }),
};

/**
 * Upload records (DynamoDB) and their objects (S3, whose SDK loads on first use). The presigned
 * PUT's checksum is turned off (it would sign an empty body's).
 */
export const withAttachments: Wiring<'attachments'> = { port: 'attachments', build: ({ config, table }) => attachmentDeps(config, table) };

/** The key page cursors are sealed with: the list routes' (the stack's secret, read on first use, unless the host gives one). */
export const withCursors: Wiring<'cursorKey'> = { port: 'cursorKey', build: ({ config }) => ({ cursorKey: config.cursorKey ?? cursorKeyFromEnv() }) };

/** The workers a large room's posts are split across: the stream fan-out's alone (no other function may invoke them). */
export const withWorkers: Wiring<'workers'> = {
  port: 'workers',
  build: ({ config: { fanoutWorkers: w } }) => (w ? { workers: new LambdaFanOutWorkers(w.functionName, w.chunkSize) } : {}),
};

/**
 * The per-user write and search budgets (DynamoDB counters): the routes whose use-cases take one.
 * A send's budget rides on the member's seat, so the send routes compose none.
 */
export const withRateLimits: Wiring<'rateLimiter'> = { port: 'rateLimiter', build: ({ table, clock }) => ({ rateLimiter: new DynamoRateLimiter(table, clock) }) };

/** Copies of members' notification preferences on the member items the function writes: the functions that add members. */
export const withLevelCopies: Wiring<'levelCopies'> = { port: 'levelCopies', build: ({ table }) => ({ levelCopies: new DynamoLevelCopier(table) }) };

/** The stream fan-out's parts: everything a stored change's delivery reaches (the benchmark composes the same). */
export const fanOutWirings: readonly Wiring[] = [withConnections, withBroadcaster, withAttachments, withWorkers];

/** Every part: for a host or a test calling use-cases of any kind with one composition. */
export const allWirings: readonly Wiring[] = [withConnections, withTyping, withBroadcaster, withAttachments, withWorkers, withCursors, withLevelCopies, withRateLimits];

/** The ports every function gets, built on `base`'s table client. */
export function createCore(config: DepsConfig, options: DepsOptions, base: { clients: Clients; table: TableClient }): { core: CorePorts; ctx: WiringContext } {
  const clock = options.clock ?? systemClock;
  const ctx: WiringContext = { config, options, clock, ...base };
  const { table } = base;
  return {
    ctx,
    core: {
      rooms: new DynamoRoomStore(table),
      messages: new DynamoMessageStore(table),
      clock,
      ids: options.ids ?? ulids,
      settings: config.settings,
    },
  };
}

/**
 * The core ports with the parts `wirings` built. A port the function did not compose is one that
 * throws when used, naming the port: a route that needs one it was not given fails loudly in its
 * first test, never quietly. Workers stay absent (a fan-out without them posts by itself), and so
 * do attachments where the deployment configures no bucket (sends with attachments are refused).
 */
export function assemble(config: DepsConfig, core: CorePorts, parts: readonly { port: OptionalPort; built: Partial<Deps> }[]): Deps {
  const composed = new Set(parts.map((p) => p.port));
  const missing = (port: Exclude<OptionalPort, 'workers'>) => (composed.has(port) ? {} : { [port]: notComposed(port) });
  return {
    ...core,
    ...missing('cursorKey'),
    ...missing('levelCopies'),
    ...missing('rateLimiter'),
    ...missing('connections'),
    ...missing('typing'),
    ...missing('broadcaster'),
    ...(config.attachments && missing('attachments')),
    ...Object.assign({}, ...parts.map((p) => p.built)),
  } as Deps;
}

/** A stand-in for a port a function did not compose: any use of it (a read, or a call of a function port) throws, naming it. */
function notComposed(port: string): object {
  const refuse = (use: string): never => {
    throw new Error(`The ${port} port is not composed for this function (its handler passes no wiring for it to getDeps); ${use}`);
  };
  return new Proxy(Object.freeze(() => undefined), { get: (_target, key) => refuse(`read: ${String(key)}`), apply: () => refuse('called') });
}

/**
 * Builds the core ports and the parts `wirings` build, on `base` (a table from createTableClient)
 * or a new one. One table client serves every store, so they share its connections, its retry
 * policy and its metering.
 */
export function createDeps(
  config: DepsConfig,
  options: DepsOptions = {},
  base: { clients: Clients; table: TableClient } = createTableClient(config, options),
  wirings: readonly Wiring[] = [],
): { deps: Deps; clients: Clients; table: TableClient } {
  const { core, ctx } = createCore(config, options, base);
  return { deps: assemble(config, core, wirings.map((w) => ({ port: w.port, built: w.build(ctx) }))), ...base };
}

/**
 * The attachment ports alone, for a function that needs nothing else (the thumbnail maker): its
 * bundle then carries no other store.
 */
export function createAttachmentDeps(config: Pick<DepsConfig, 'tableName' | 'attachments'>, options: DepsOptions = {}): { deps: Pick<Deps, 'attachments'>; clients: Clients } {
  const { clients, table } = createTableClient(config, options);
  return { deps: attachmentDeps(config, table), clients };
}

function attachmentDeps(config: Pick<DepsConfig, 'attachments'>, table: TableClient): Pick<Deps, 'attachments'> {
  const a = config.attachments;
  if (!a) return {};
  return {
    attachments: {
      store: new DynamoAttachmentStore(table),
      blobs: new S3BlobStore({ forcePathStyle: a.pathStyle, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }, a.bucketName),
      settings: a.settings,
    },
  };
}
