import * as z from 'zod';
import { roomIdSchema } from './common.ts';
import { sendMessageFields, requireContent, contentIssue } from './messages.ts';

/** Every client frame may carry a `requestId`, echoed on the `ack` or `error` that answers it. */
const requestId = z.string().min(1).max(64).optional();

export const pingFrame = z.strictObject({ type: z.literal('ping'), requestId });

export const messageSendFrame = z
  .strictObject({ type: z.literal('message_send'), requestId, roomId: roomIdSchema, ...sendMessageFields })
  .refine(requireContent, contentIssue);
export type MessageSendFrame = z.infer<typeof messageSendFrame>;

/** The only thing read from a frame before it is validated: its `requestId`, if it is a string. */
export function requestIdOf(frame: unknown): string | undefined {
  if (typeof frame === 'object' && frame !== null && 'requestId' in frame) {
    const id = (frame as { requestId: unknown }).requestId;
    if (typeof id === 'string' && id.length > 0 && id.length <= 64) return id;
  }
  return undefined;
}

/** Server → client frames. */
export type ServerFrame =
  | { type: 'connection_established'; connectionId: string; userId: string; serverTime: string }
  | { type: 'pong'; requestId?: string }
  | { type: 'ack'; requestId: string; result: unknown }
  | { type: 'error'; code: string; message: string; requestId?: string; details?: unknown }
  | { type: 'message_new'; message: unknown };
