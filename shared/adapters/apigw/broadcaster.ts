import type { Broadcaster, PreparedFrame } from '#shared/ports/broadcaster.ts';
import type { ServerFrame } from '#shared/schemas/frames.ts';
import { ConnectionsApi, type PostBody } from './connections-api.ts';

/**
 * Hears every frame as it is posted (a benchmark running the handlers in-process counts them).
 * `at`: when it was posted, on `performance.now()`'s clock, if not now (a post told after the fact).
 */
export type PostListener = (connectionId: string, frame: ServerFrame, at?: number) => void;

/** Posts frames through API Gateway's `@connections` API (the emulator's, locally). */
export class ApiGatewayBroadcaster implements Broadcaster {
  /** Each prepared frame's bytes and hash, made at its first post and reused by the others. */
  private readonly bodies = new WeakMap<PreparedFrame, PostBody>();

  constructor(
    private readonly api: ConnectionsApi,
    private readonly onPost?: PostListener,
  ) {}

  send(connectionId: string, frame: ServerFrame): Promise<'sent' | 'gone'> {
    this.onPost?.(connectionId, frame);
    return this.api.post(connectionId, ConnectionsApi.body(JSON.stringify(frame)));
  }

  post(connectionId: string, prepared: PreparedFrame): Promise<'sent' | 'gone'> {
    this.onPost?.(connectionId, prepared.frame);
    let body = this.bodies.get(prepared);
    if (!body) this.bodies.set(prepared, (body = ConnectionsApi.body(prepared.data)));
    return this.api.post(connectionId, body);
  }

  async disconnect(connectionId: string): Promise<void> {
    await this.api.delete(connectionId);
  }
}
