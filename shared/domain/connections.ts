import type { ConnectionTarget, Deps, User } from '../ports.ts';
import { requireMembership } from './access.ts';
import { connectionClosed, connectionOpened } from './presence.ts';

/** Connections outlive API Gateway's 2-hour limit by a margin, then expire if $disconnect was lost. */
export const CONNECTION_TTL_SECONDS = 2 * 60 * 60 + 10 * 60;

/** Records a new WebSocket connection. A room-scoped one (`?roomId=`) requires membership. */
export async function openConnection(deps: Deps, user: User, connectionId: string, scopeRoomId?: string): Promise<void> {
  if (scopeRoomId !== undefined) await requireMembership(deps, scopeRoomId, user.userId);
  const connection = {
    connectionId,
    userId: user.userId,
    displayName: user.displayName,
    ...(scopeRoomId !== undefined && { scopeRoomId }),
    connectedAt: deps.clock.now().toISOString(),
  };
  const expiresAt = new Date(Date.parse(connection.connectedAt) + CONNECTION_TTL_SECONDS * 1000).toISOString();
  // Presence first: the connection item must be the last write, since its stream record makes the
  // fan-out post `connection_established`, which fails while `$connect` is still running.
  await connectionOpened(deps, connection, expiresAt);
  await deps.connections.putConnection(connection, CONNECTION_TTL_SECONDS);
}

/**
 * Forgets a connection: its item and its entry on the user's presence item (the user goes offline
 * when it was their last). `c` says what is known of it; the item knows the rest, unless a lost
 * `$disconnect` let it expire already.
 */
export async function closeConnection(deps: Deps, c: { connectionId: string } & Partial<ConnectionTarget>): Promise<void> {
  const stored = await deps.connections.deleteConnection(c.connectionId);
  const userId = stored?.userId ?? c.userId;
  if (userId === undefined) return;
  const scopeRoomId = stored ? stored.scopeRoomId : c.scopeRoomId;
  await connectionClosed(deps, { connectionId: c.connectionId, userId, ...(scopeRoomId !== undefined && { scopeRoomId }) });
}
