import { wsHandler } from '#shared/adapters/apigw/ws.ts';
import { reactionRemoveFrame } from '#shared/schemas/frames.ts';
import { removeReaction } from '#shared/domain/reactions.ts';
import { getDeps, withAttachments, withRateLimits } from './lib/deps.ts';

/** `reaction_remove` → `ack` with the message; the room gets `reaction_removed` through the stream. */
export const handler = wsHandler(reactionRemoveFrame, async ({ roomId, messageId, emoji }, { user }) => removeReaction(getDeps(withAttachments, withRateLimits), user, roomId, messageId, emoji));
