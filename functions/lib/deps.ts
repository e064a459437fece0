import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { ulid } from 'ulid';
import type { Deps } from '#shared/ports.ts';
import { DynamoStore } from '#shared/adapters/dynamodb/store.ts';
import { ApiGatewayBroadcaster } from '#shared/adapters/apigw/broadcaster.ts';
import { createJwtVerifier, type ClaimsVerifier } from '#shared/adapters/jwt.ts';
import { ENV, requireEnv } from '#shared/env.ts';

/**
 * The composition root of every Lambda function: clients are built on first use from the
 * environment (set by the CDK stack in AWS, by `npm start` locally) and reused by later invocations.
 */
let deps: Deps | undefined;
export function getDeps(): Deps {
  if (!deps) {
    const store = new DynamoStore(new DynamoDBClient({}), requireEnv(ENV.tableName));
    deps = {
      rooms: store,
      messages: store,
      connections: store,
      broadcaster: new ApiGatewayBroadcaster(new ApiGatewayManagementApiClient({ endpoint: requireEnv(ENV.wsCallbackUrl) })),
      clock: { now: () => new Date() },
      ids: { newId: () => ulid() },
    };
  }
  return deps;
}

let verifier: ClaimsVerifier | undefined;
export function getVerifier(): ClaimsVerifier {
  if (!verifier) {
    const devJwks = process.env[ENV.devJwks];
    verifier = createJwtVerifier({
      issuer: requireEnv(ENV.jwtIssuer),
      audience: requireEnv(ENV.jwtAudience),
      ...(devJwks && { jwks: JSON.parse(devJwks) }),
    });
  }
  return verifier;
}
