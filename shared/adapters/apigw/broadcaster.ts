import { ApiGatewayManagementApiClient, GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import type { Broadcaster } from '../../ports.ts';
import type { ServerFrame } from '../../schemas/frames.ts';

/** Posts frames through API Gateway's `@connections` API (the emulator's, locally). */
export class ApiGatewayBroadcaster implements Broadcaster {
  /** Every PostToConnection made, for benchmarks: calls per delivered event. */
  posts = 0;

  constructor(private readonly client: ApiGatewayManagementApiClient) {}

  async send(connectionId: string, frame: ServerFrame): Promise<'sent' | 'gone'> {
    this.posts++;
    try {
      await this.client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: JSON.stringify(frame) }));
      return 'sent';
    } catch (err) {
      if (err instanceof GoneException || (err as { name?: string }).name === 'GoneException') return 'gone';
      throw err;
    }
  }
}
