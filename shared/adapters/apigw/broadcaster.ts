import { type ApiGatewayManagementApiClient, DeleteConnectionCommand, GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import type { Broadcaster } from '#shared/ports/broadcaster.ts';
import type { ServerFrame } from '#shared/schemas/frames.ts';

/** Hears every frame as it is posted (a benchmark running the handlers in-process counts them). */
export type PostListener = (connectionId: string, frame: ServerFrame) => void;

/** Posts frames through API Gateway's `@connections` API (the emulator's, locally). */
export class ApiGatewayBroadcaster implements Broadcaster {
  constructor(
    private readonly client: ApiGatewayManagementApiClient,
    private readonly onPost?: PostListener,
  ) {}

  async send(connectionId: string, frame: ServerFrame): Promise<'sent' | 'gone'> {
    this.onPost?.(connectionId, frame);
    try {
      await this.client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: JSON.stringify(frame) }));
      return 'sent';
    } catch (err) {
      if (err instanceof GoneException || (err as { name?: string }).name === 'GoneException') return 'gone';
      throw err;
    }
  }

  async disconnect(connectionId: string): Promise<void> {
    try {
      await this.client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    } catch (err) {
      if (!(err instanceof GoneException || (err as { name?: string }).name === 'GoneException')) throw err;
    }
  }
}
