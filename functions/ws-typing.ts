import { wsHandler } from '#shared/adapters/apigw/ws.ts';
import { typingFrame } from '#shared/schemas/frames.ts';
import { setTyping } from '#shared/domain/typing.ts';
import { getDeps, withConnections, withTyping, withBroadcaster } from './lib/deps.ts';

/** `typing` → `user_typing` to the other members' connections, directly (no stream round trip). */
export const handler = wsHandler(typingFrame, async ({ roomId, isTyping }, { user }) => {
  await setTyping(getDeps(withConnections, withTyping, withBroadcaster), user, roomId, isTyping);
  return { roomId, isTyping };
});
