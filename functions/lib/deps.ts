import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { ulid } from 'ulid';
import type { Deps } from '#shared/ports.ts';
import { DynamoStore } from '#shared/adapters/dynamodb/store.ts';
import { capacitySink, meterCapacity } from '#shared/adapters/dynamodb/capacity.ts';
import { ApiGatewayBroadcaster } from '#shared/adapters/apigw/broadcaster.ts';
import { ENV, intSetting, requireEnv } from '#shared/env.ts';
import { cursorKeyFromEnv } from '#shared/adapters/secrets/cursor-key.ts';
import { MESSAGE_LIMITS } from '#shared/schemas/messages.ts';
import { SEARCH_LIMITS } from '#shared/schemas/search.ts';
import { attachmentPorts } from './attachments.ts';
import { createPeopleDeps } from './people.ts';

/**
 * The composition root of every Lambda function: clients are built on first use from the
 * environment (set by the CDK stack in AWS, by `npm start` locally) and reused by later invocations.
 * One DynamoDB client serves every store, so they share its connections (and its metering).
 */
let deps: Deps | undefined;
export function getDeps(): Deps {
  if (!deps) {
    const dynamo = meterCapacity(new DynamoDBClient({}));
    const store = new DynamoStore(dynamo, requireEnv(ENV.tableName), capacitySink);
    deps = {
      rooms: store,
      messages: store,
      connections: store,
      broadcaster: new ApiGatewayBroadcaster(new ApiGatewayManagementApiClient({ endpoint: requireEnv(ENV.wsCallbackUrl) })),
      clock: { now: () => new Date() },
      ids: { newId: () => ulid() },
      settings: {
        maxContentLength: intSetting(ENV.maxMessageLength, MESSAGE_LIMITS.contentLength),
        editWindowSeconds: intSetting(ENV.editWindowSeconds, MESSAGE_LIMITS.editWindowSeconds),
        maxReactionsPerMessage: MESSAGE_LIMITS.reactionsPerMessage,
        searchScanBudget: Math.max(1, intSetting(ENV.searchScanBudget, SEARCH_LIMITS.scanBudget)),
      },
      ...attachmentPorts(dynamo),
      people: createPeopleDeps(dynamo),
      cursorKey: cursorKeyFromEnv(),
    };
  }
  return deps;
}
