import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { reactionParams } from '#shared/schemas/messages.ts';
import { removeReaction } from '#shared/domain/reactions.ts';
import { getDeps, withAttachments, withRateLimits } from './lib/deps.ts';

/** `DELETE /rooms/{roomId}/messages/{messageId}/reactions/{emoji}` — removes my reaction (a missing one is no error); 200 with the message. */
export const handler = httpHandler(async (req) => {
  const { roomId, messageId, emoji } = parseOrThrow(reactionParams, req.params, 'path');
  return { status: 200, body: await removeReaction(getDeps(withAttachments, withRateLimits), req.user(), roomId, messageId, emoji) };
});
