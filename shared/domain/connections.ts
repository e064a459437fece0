import type { ConnectionRecord, User } from '#shared/model.ts';
import type { Deps } from '#shared/ports/runtime.ts';
import { requireMembership } from './access.ts';

/** Connections outlive API Gateway's 2-hour limit by a margin, then expire if $disconnect was lost. */
export const CONNECTION_TTL_SECONDS = 2 * 60 * 60 + 10 * 60;
/** Longer than any `$connect` can run (its function times out at 10 s). */
const CONNECT_GRACE_MS = 30_000;

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
  // Presence first, then the connection item: the item's stream record lists the connection in
  // its user's rooms (live.ts), and a join handled meanwhile must find it on the presence item.
  // The fan-out then posts `connection_established`, which can reach the gateway before
  // `$connect` is over: it tries again (greetConnection).
  await deps.connections.connectionOpened(connection, expiresAt);
  await deps.connections.putConnection(connection, CONNECTION_TTL_SECONDS);
}

/**
 * Forgets a connection (`$disconnect`): its item, and its entry on the user's presence item (the
 * user goes offline when it was their last).
 */
export async function closeConnection(deps: Deps, connectionId: string): Promise<void> {
  const stored = await deps.connections.deleteConnection(connectionId);
  if (stored) await connectionExpired(deps, stored);
}

/**
 * A post answered 410. API Gateway answers so for a closed connection, but also for one still
 * inside its `$connect` (which lists it first and stores its item last), so only a connection that
 * is not new is taken for gone; a new one's fate is left to its own `$connect` / `$disconnect`.
 */
export async function forgetGoneConnection(deps: Deps, connectionId: string): Promise<void> {
  const before = new Date(deps.clock.now().getTime() - CONNECT_GRACE_MS).toISOString();
  const stored = await deps.connections.deleteConnection(connectionId, before);
  if (stored) await connectionExpired(deps, stored);
}

/** Takes a connection whose item is gone (closed, or expired by TTL after a lost `$disconnect`) off its user's presence item. */
export async function connectionExpired(deps: Deps, c: ConnectionRecord): Promise<void> {
  await deps.connections.connectionClosed({ connectionId: c.connectionId, userId: c.userId, ...(c.scopeRoomId !== undefined && { scopeRoomId: c.scopeRoomId }) }, deps.clock.now().toISOString());
}
