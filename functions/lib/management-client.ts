import { ConnectionsApi } from '#shared/adapters/apigw/connections-api.ts';
import { POST_CONCURRENCY } from '#shared/domain/deliver.ts';

/**
 * The `@connections` client: kept-alive sockets, as many as a delivery has posts in flight, so a
 * fan-out neither queues behind the agent nor pays a TCP (and TLS) handshake per post. A module of
 * its own so that the functions load it with the first frame they post.
 */
export function createManagementClient(endpoint: string): ConnectionsApi {
  return new ConnectionsApi(endpoint, { maxSockets: POST_CONCURRENCY });
}
