import { wsHandler } from '#shared/adapters/apigw/ws.ts';
import { presenceSetFrame } from '#shared/schemas/people.ts';
import { setPresence } from '#shared/domain/presence.ts';
import { getDeps, withConnections, withRateLimits } from './lib/deps.ts';

/** `presence_set` → `ack` with my presence; others get `presence_changed` through the stream. */
export const handler = wsHandler(presenceSetFrame, async ({ status }, { user }) => setPresence(getDeps(withConnections, withRateLimits), user, status));
