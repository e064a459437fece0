import type { ServerFrame } from '#shared/schemas/frames.ts';

/** A frame serialized once, to be posted to many connections as is. */
export interface PreparedFrame {
  frame: ServerFrame;
  /** `JSON.stringify(frame)`. */
  data: string;
}

/** Sends frames over API Gateway's @connections API. */
export interface Broadcaster {
  /** `gone` when the connection no longer exists (410). */
  send(connectionId: string, frame: ServerFrame): Promise<'sent' | 'gone'>;
  /** As `send`, for a frame already serialized (a fan-out posts one frame to many connections). */
  post(connectionId: string, prepared: PreparedFrame): Promise<'sent' | 'gone'>;
  /** Closes a connection (`DELETE @connections/{id}`); one already gone is fine. */
  disconnect(connectionId: string): Promise<void>;
}
