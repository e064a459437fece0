import * as z from 'zod/mini';
import { schema } from './mini.ts';
import { messageIdSchema, roomIdSchema } from './common.ts';
import { MESSAGE_LIMITS, contentIssue, emojiSchema, requireContent, sendMessageFields } from './messages.ts';

/** Every client frame may carry a `requestId`, echoed on the `ack` or `error` that answers it. */
const requestId = /* @__PURE__ */ schema(() => z.optional(z.string().check(z.minLength(1), z.maxLength(64))));

export const pingFrame = /* @__PURE__ */ schema(() => z.strictObject({ type: z.literal('ping'), requestId }));

export const messageSendFrame = /* @__PURE__ */ schema(() => z
  .strictObject({ type: z.literal('message_send'), requestId, roomId: roomIdSchema, ...sendMessageFields })
  .check(z.refine(requireContent, contentIssue)));
export type MessageSendFrame = z.infer<typeof messageSendFrame>;

export const messageEditFrame = /* @__PURE__ */ schema(() => z.strictObject({
  type: z.literal('message_edit'),
  requestId,
  roomId: roomIdSchema,
  messageId: messageIdSchema,
  content: z.string().check(z.maxLength(MESSAGE_LIMITS.contentHardLimit)),
}));

export const messageDeleteFrame = /* @__PURE__ */ schema(() => z.strictObject({ type: z.literal('message_delete'), requestId, roomId: roomIdSchema, messageId: messageIdSchema }));

const reactionFields = { requestId, roomId: roomIdSchema, messageId: messageIdSchema, emoji: emojiSchema };
export const reactionAddFrame = /* @__PURE__ */ schema(() => z.strictObject({ type: z.literal('reaction_add'), ...reactionFields }));
export const reactionRemoveFrame = /* @__PURE__ */ schema(() => z.strictObject({ type: z.literal('reaction_remove'), ...reactionFields }));

export const typingFrame = /* @__PURE__ */ schema(() => z.strictObject({ type: z.literal('typing'), requestId, roomId: roomIdSchema, isTyping: z.boolean() }));

export const readFrame = /* @__PURE__ */ schema(() => z.strictObject({ type: z.literal('read'), requestId, roomId: roomIdSchema, messageId: messageIdSchema }));

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
  | { type: 'error'; code: string; message: string; requestId?: string; details?: unknown; retryAfter?: number }
  | { type: 'message_new' | 'message_edited'; message: unknown }
  | { type: 'message_deleted'; roomId: string; messageId: string; seq: number }
  | { type: 'reaction_added' | 'reaction_removed'; roomId: string; messageId: string; emoji: string; userId: string; count: number }
  | { type: 'user_typing'; roomId: string; userId: string; displayName: string; isTyping: boolean }
  | { type: 'messages_read'; roomId: string; userId: string; messageId: string; seq: number; readAt: string }
  | { type: 'user_joined' | 'user_left'; roomId: string; userId: string; displayName: string; role?: string }
  | { type: 'room_updated'; room: unknown }
  | { type: 'room_archived'; roomId: string }
  | { type: 'presence_changed'; userId: string; status: string; lastSeenAt?: string };
