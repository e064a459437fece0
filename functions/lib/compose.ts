import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { ulid } from 'ulid';
import type { Deps, Clock, Ids } from '#shared/ports/runtime.ts';
import type { RoomStore } from '#shared/ports/rooms.ts';
import type { ConnectionStore } from '#shared/ports/connections.ts';
import { DynamoStore } from '#shared/adapters/dynamodb/store.ts';
import { DynamoPeopleStore } from '#shared/adapters/dynamodb/people-store.ts';
import { DynamoAttachmentStore } from '#shared/adapters/dynamodb/attachment-store.ts';
import { meterCapacity, type CapacityListener } from '#shared/adapters/dynamodb/capacity.ts';
import type { CapacityMeter } from '#shared/adapters/dynamodb/table-client.ts';
import { ApiGatewayBroadcaster, type PostListener } from '#shared/adapters/apigw/broadcaster.ts';
import { S3BlobStore } from '#shared/adapters/s3/blob-store.ts';
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

/** New clients for `config`: SDK defaults (region, credentials, endpoint overrides) from the environment. */
export function createClients(config: DepsConfig, given: Partial<Clients> = {}): Clients {
  return {
    dynamo: given.dynamo ?? new DynamoDBClient({}),
    management: given.management ?? new ApiGatewayManagementApiClient({ endpoint: config.wsCallbackUrl }),
  };
}

/**
 * Builds every port from `config`. One DynamoDB client serves every store, so they share its
 * connections (and its metering). The S3 store loads its SDK on first use; the presigned PUT's
 * checksum is turned off (it would sign an empty body's).
 */
export function createDeps(config: DepsConfig, options: DepsOptions = {}): { deps: Deps; clients: Clients; meter?: CapacityMeter | undefined } {
  const clients = createClients(config, options.clients);
  const meter = options.onCapacity && meterCapacity(clients.dynamo, options.onCapacity);
  const store = new DynamoStore(clients.dynamo, config.tableName, meter);
  const people = new DynamoPeopleStore(clients.dynamo, config.tableName, meter);
  const rooms: RoomStore = Object.assign(Object.create(store) as DynamoStore, {
    addMember: people.addMember.bind(people),
    removeMember: people.removeMember.bind(people),
    setRole: people.setRole.bind(people),
    updateRoom: people.updateRoom.bind(people),
    archiveRoom: people.archiveRoom.bind(people),
    listPublic: people.listPublic.bind(people),
    listPublicRooms: people.listPublicRooms.bind(people),
  });
  const connections: ConnectionStore = Object.assign(Object.create(store) as DynamoStore, {
    connectionOpened: people.connectionOpened.bind(people),
    connectionClosed: people.connectionClosed.bind(people),
    setStatus: people.setStatus.bind(people),
    getPresence: people.getPresence.bind(people),
  });
  const a = config.attachments;
  const deps: Deps = {
    rooms,
    messages: store,
    typing: store,
    connections,
    rateLimiter: people,
    broadcaster: new ApiGatewayBroadcaster(clients.management, options.onPost),
    clock: options.clock ?? systemClock,
    ids: options.ids ?? ulids,
    settings: config.settings,
    cursorKey: config.cursorKey,
    ...(a && {
      attachments: {
        store: new DynamoAttachmentStore(clients.dynamo, config.tableName, meter),
        blobs: new S3BlobStore({ forcePathStyle: a.pathStyle, requestChecksumCalculation: 'WHEN_REQUIRED', responseChecksumValidation: 'WHEN_REQUIRED' }, a.bucketName),
        settings: a.settings,
      },
    }),
  };
  return { deps, clients, meter };
}
