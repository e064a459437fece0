import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { reactionParams } from '#shared/schemas/messages.ts';
import { addReaction } from '#shared/domain/reactions.ts';
import { getDeps, withAttachments, withRateLimits } from './lib/deps.ts';

/** `PUT /rooms/{roomId}/messages/{messageId}/reactions/{emoji}` — adds my reaction (idempotent); 200 with the message. */
export const handler = httpHandler(async (req) => {
  const { roomId, messageId, emoji } = parseOrThrow(reactionParams, req.params, 'path');
  return { status: 200, body: await addReaction(getDeps(withAttachments, withRateLimits), req.user(), roomId, messageId, emoji) };
});
