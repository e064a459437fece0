import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { Agent as HttpAgent } from 'node:http';
import { Agent as HttpsAgent } from 'node:https';
import { POST_CONCURRENCY } from '#shared/domain/deliver.ts';

/**
 * The `@connections` client: kept-alive sockets, as many as a delivery has posts in flight, so a
 * fan-out neither queues behind the agent nor pays a TCP (and TLS) handshake per post. A module of
 * its own so that the functions load it (and the SDK client) with the first frame they post.
 */
export function createManagementClient(endpoint: string | undefined): ApiGatewayManagementApiClient {
  const agent = { keepAlive: true, maxSockets: POST_CONCURRENCY };
  return new ApiGatewayManagementApiClient({
    ...(endpoint && { endpoint }),
    requestHandler: { httpAgent: new HttpAgent(agent), httpsAgent: new HttpsAgent(agent) },
  });
}
