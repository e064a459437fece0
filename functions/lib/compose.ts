import { ulid } from 'ulid';
import type { Deps, Clock, Ids } from '#shared/ports/runtime.ts';
import type { Broadcaster } from '#shared/ports/broadcaster.ts';
import { TableClient, type CapacityMeter } from '#shared/adapters/dynamodb/client.ts';
import { DynamoDbApi } from '#shared/adapters/dynamodb/dynamodb-api.ts';
import { DynamoRoomStore } from '#shared/adapters/dynamodb/room-store.ts';
import { DynamoMessageStore } from '#shared/adapters/dynamodb/message-store.ts';
import { DynamoTypingStore } from '#shared/adapters/dynamodb/typing-store.ts';
import { DynamoConnectionStore } from '#shared/adapters/dynamodb/connection-store.ts';
import { DynamoRateLimiter } from '#shared/adapters/dynamodb/rate-limiter.ts';
import { DynamoAttachmentStore } from '#shared/adapters/dynamodb/attachment-store.ts';
import type { PostListener } from '#shared/adapters/apigw/broadcaster.ts';
import type { ConnectionsApi } from '#shared/adapters/apigw/connections-api.ts';
import { S3BlobStore } from '#shared/adapters/s3/blob-store.ts';
import { LambdaFanOutWorkers } from '#shared/adapters/lambda/fanout-workers.ts';
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

/** New clients for `config` (and any given): region, credentials and endpoint overrides from the environment, as the SDK's. */
export function createClients(config: DepsConfig, given: Partial<Clients> = {}): Clients {
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
export function createTableClient(config: DepsConfig, options: DepsOptions = {}): { clients: Clients; table: TableClient } {
  const clients = createClients(config, options.clients);
  return { clients, table: new TableClient(clients.dynamo, config.tableName, options.meter, (options.clock ?? systemClock).sleep) };
}

/**
 * Builds every port from `config`, on `base` (a table from createTableClient) or a new one. One table
 * client serves every store, so they share its connections, its retry policy and its metering. The
 * S3 store loads its SDK on first use; the presigned PUT's checksum is turned off (it would sign an
 * empty body's).
 */
export function createDeps(
  config: DepsConfig,
  options: DepsOptions = {},
  base: { clients: Clients; table: TableClient } = createTableClient(config, options),
): { deps: Deps; clients: Clients; table: TableClient; workers?: LambdaFanOutWorkers } {
  const { clients, table } = base;
  const clock = options.clock ?? systemClock;
  const deps: Deps = {
    rooms: new DynamoRoomStore(table),
    messages: new DynamoMessageStore(table),
    typing: new DynamoTypingStore(table),
    connections: new DynamoConnectionStore(table, clock),
    rateLimiter: new DynamoRateLimiter(table, clock),
    broadcaster: lazyBroadcaster(config, clients, options.onPost),
    clock,
    ids: options.ids ?? ulids,
    settings: config.settings,
    cursorKey: config.cursorKey,
    ...attachmentDeps(config, table),
  };
  // Only the stream fan-out splits its posts (getFanOutDeps): other functions have no grant to invoke workers.
  const workers = config.fanoutWorkers && new LambdaFanOutWorkers(config.fanoutWorkers.functionName, config.fanoutWorkers.chunkSize);
  return { deps, clients, table, ...(workers && { workers }) };
}

/**
 * The attachment ports alone, for a function that needs nothing else (the thumbnail maker): its
 * bundle then carries no other store.
 */
export function createAttachmentDeps(config: DepsConfig, options: DepsOptions = {}): { deps: Pick<Deps, 'attachments'>; clients: Clients } {
  const { clients, table } = createTableClient(config, options);
  return { deps: attachmentDeps(config, table), clients };
}

function attachmentDeps(config: DepsConfig, table: TableClient): Pick<Deps, 'attachments'> {
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
