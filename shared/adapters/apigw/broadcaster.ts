import { type ApiGatewayManagementApiClient, DeleteConnectionCommand, GoneException, PostToConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import type { Broadcaster, PreparedFrame } from '#shared/ports/broadcaster.ts';
import type { ServerFrame } from '#shared/schemas/frames.ts';

/** Hears every frame as it is posted (a benchmark running the handlers in-process counts them). */
export type PostListener = (connectionId: string, frame: ServerFrame) => void;

const isGone = (err: unknown) => err instanceof GoneException || (err as { name?: string }).name === 'GoneException';

/** Posts frames through API Gateway's `@connections` API (the emulator's, locally). */
export class ApiGatewayBroadcaster implements Broadcaster {
  constructor(
    private readonly client: ApiGatewayManagementApiClient,
    private readonly onPost?: PostListener,
  ) {}

  send(connectionId: string, frame: ServerFrame): Promise<'sent' | 'gone'> {
    return this.post(connectionId, { frame, data: JSON.stringify(frame) });
  }

  post(connectionId: string, prepared: PreparedFrame): Promise<'sent' | 'gone'> {
    this.onPost?.(connectionId, prepared.frame);
    return this.client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: prepared.data })).then(
      () => 'sent' as const,
      (err: unknown) => {
        if (isGone(err)) return 'gone' as const;
        throw err;
      },
    );
  }

  async disconnect(connectionId: string): Promise<void> {
    try {
      await this.client.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    } catch (err) {
      if (!isGone(err)) throw err;
    }
  }
}
