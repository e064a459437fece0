import { wsHandler } from '#shared/adapters/apigw/ws.ts';
import { reactionAddFrame } from '#shared/schemas/frames.ts';
import { addReaction } from '#shared/domain/reactions.ts';
import { getDeps, withAttachments, withRateLimits } from './lib/deps.ts';

/** `reaction_add` → `ack` with the message; the room gets `reaction_added` through the stream. */
export const handler = wsHandler(reactionAddFrame, async ({ roomId, messageId, emoji }, { user }) => addReaction(getDeps(withAttachments, withRateLimits), user, roomId, messageId, emoji));
