import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { ulid } from 'ulid';
import type { Deps, Clock, Ids } from '#shared/ports/runtime.ts';
import { TableClient } from '#shared/adapters/dynamodb/client.ts';
import { DynamoRoomStore } from '#shared/adapters/dynamodb/room-store.ts';
import { DynamoMessageStore } from '#shared/adapters/dynamodb/message-store.ts';
import { DynamoTypingStore } from '#shared/adapters/dynamodb/typing-store.ts';
import { DynamoConnectionStore } from '#shared/adapters/dynamodb/connection-store.ts';
import { DynamoRateLimiter } from '#shared/adapters/dynamodb/rate-limiter.ts';
import { DynamoAttachmentStore } from '#shared/adapters/dynamodb/attachment-store.ts';
import { meterCapacity, type CapacityListener } from '#shared/adapters/dynamodb/capacity.ts';
import { ApiGatewayBroadcaster, type PostListener } from '#shared/adapters/apigw/broadcaster.ts';
import { S3BlobStore } from '#shared/adapters/s3/blob-store.ts';
import { LambdaFanOutWorkers } from '#shared/adapters/lambda/fanout-workers.ts';
import { POST_CONCURRENCY } from '#shared/domain/deliver.ts';
import type { DepsConfig } from './config.ts';

/** The SDK clients the ports are built on (the S3 client is built by its store on first use). */
export interface Clients {
  dynamo: DynamoDBClient;
  management: ApiGatewayManagementApiClient;
}

export interface DepsOptions {
  /** Clients to build on instead of new ones (e.g. carrying middleware of the caller's). */
  clients?: Partial<Clients>;
  /** Hears every DynamoDB call the stores make, with the capacity it consumed. */
  onCapacity?: CapacityListener;
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

/**
 * The `@connections` client: kept-alive sockets, as many as a delivery has posts in flight, so a
 * fan-out neither queues behind the agent nor pays a TCP (and TLS) handshake per post.
 */
export function createManagementClient(endpoint: string | undefined): ApiGatewayManagementApiClient {
  const agent = { keepAlive: true, maxSockets: POST_CONCURRENCY };
  return new ApiGatewayManagementApiClient({
    ...(endpoint && { endpoint }),
    requestHandler: { httpAgent: new HttpAgent(agent), httpsAgent: new HttpsAgent(agent) },
  });
}

/** New clients for `config` (and any given): SDK defaults (region, credentials, endpoint overrides) from the environment. */
export function createClients(config: DepsConfig, given: Partial<Clients> = {}): Clients {
  return {
    dynamo: given.dynamo ?? new DynamoDBClient({}),
    management: given.management ?? createManagementClient(config.wsCallbackUrl),
  };
}

/**
 * Builds every port from `config`. One table client serves every store, so they share its
 * connections, its retry policy and its metering. The S3 store loads its SDK on first use; the
 * presigned PUT's checksum is turned off (it would sign an empty body's).
 */
export function createDeps(config: DepsConfig, options: DepsOptions = {}): { deps: Deps; clients: Clients; table: TableClient; workers?: LambdaFanOutWorkers } {
  const clients = createClients(config, options.clients);
  const clock = options.clock ?? systemClock;
  const meter = options.onCapacity && meterCapacity(clients.dynamo, options.onCapacity);
  const table = new TableClient(clients.dynamo, config.tableName, meter, clock.sleep);
  const a = config.attachments;
  const deps: Deps = {
    rooms: new DynamoRoomStore(table),
    messages: new DynamoMessageStore(table),
    typing: new DynamoTypingStore(table),
    connections: new DynamoConnectionStore(table, clock),
    rateLimiter: new DynamoRateLimiter(table, clock),
    broadcaster: new ApiGatewayBroadcaster(clients.management, options.onPost),
    clock,
    ids: options.ids ?? ulids,
    settings: config.settings,
    cursorKey: config.cursorKey,
    ...(a && {
      attachments: {
        store: new DynamoAttachmentStore(table),
        blobs: new S3BlobStore({ forcePathStyle: a.pathStyle, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }, a.bucketName),
        settings: a.settings,
      },
    }),
  };
  // Only the stream fan-out splits its posts (getFanOutDeps): other functions have no grant to invoke workers.
  const workers = config.fanoutWorkers && new LambdaFanOutWorkers(config.fanoutWorkers.functionName, config.fanoutWorkers.chunkSize);
  return { deps, clients, table, ...(workers && { workers }) };
}
