import type { ServerFrame } from '#shared/schemas/frames.ts';

/** Sends frames over API Gateway's @connections API. */
export interface Broadcaster {
  /** `gone` when the connection no longer exists (410). */
  send(connectionId: string, frame: ServerFrame): Promise<'sent' | 'gone'>;
  /** Closes a connection (`DELETE @connections/{id}`); one already gone is fine. */
  disconnect(connectionId: string): Promise<void>;
}
