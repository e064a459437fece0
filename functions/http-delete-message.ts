import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { messageParams } from '#shared/schemas/common.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { deleteMessage } from '#shared/domain/messages.ts';
import { getDeps, withAttachments, withRateLimits } from './lib/deps.ts';

/** `DELETE /rooms/{roomId}/messages/{messageId}` — own message, or any as moderator or admin; 200 with the tombstone. */
export const handler = httpHandler(async (req) => {
  const { roomId, messageId } = parseOrThrow(messageParams, req.params, 'path');
  return { status: 200, body: await deleteMessage(getDeps(withAttachments, withRateLimits), req.user(), roomId, messageId) };
});
