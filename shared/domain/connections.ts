import type { Deps, User } from '../ports.ts';
import { requireMembership } from './access.ts';

/** Connections outlive API Gateway's 2-hour limit by a margin, then expire if $disconnect was lost. */
export const CONNECTION_TTL_SECONDS = 2 * 60 * 60 + 10 * 60;

/** Records a new WebSocket connection. A room-scoped one (`?roomId=`) requires membership. */
export async function openConnection(deps: Deps, user: User, connectionId: string, scopeRoomId?: string): Promise<void> {
  if (scopeRoomId !== undefined) await requireMembership(deps, scopeRoomId, user.userId);
  await deps.connections.putConnection(
    {
      connectionId,
      userId: user.userId,
      displayName: user.displayName,
      ...(scopeRoomId !== undefined && { scopeRoomId }),
      connectedAt: deps.clock.now().toISOString(),
    },
    CONNECTION_TTL_SECONDS,
  );
}

export async function closeConnection(deps: Deps, connectionId: string): Promise<void> {
  await deps.connections.deleteConnection(connectionId);
}
