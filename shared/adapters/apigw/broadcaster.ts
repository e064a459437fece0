import { ApiGatewayManagementApiClient, DeleteConnectionCommand, GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import type { Broadcaster } from '#shared/ports.ts';
import type { ServerFrame } from '#shared/schemas/frames.ts';

type PostListener = (connectionId: string, frame: ServerFrame) => void;
const postListeners = new Set<PostListener>();

/** Lets a benchmark running the handlers in-process hear every PostToConnection; returns the function that stops it. */
export function listenToPosts(listener: PostListener): () => void {
  postListeners.add(listener);
  return () => postListeners.delete(listener);
}

/** Posts frames through API Gateway's `@connections` API (the emulator's, locally). */
export class ApiGatewayBroadcaster implements Broadcaster {
  constructor(private readonly client: ApiGatewayManagementApiClient) {}

  async send(connectionId: string, frame: ServerFrame): Promise<'sent' | 'gone'> {
    for (const listener of postListeners) listener(connectionId, frame);
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
