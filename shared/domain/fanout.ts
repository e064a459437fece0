import type { ConnectionRecord, Deps, MessageRecord } from '../ports.ts';
import type { ServerFrame } from '../schemas/frames.ts';
import { messageView } from './views.ts';

/** A stored change that produces events, decoded from a stream record by the DynamoDB adapter. */
export type Change =
  | { kind: 'message_created'; message: MessageRecord }
  | { kind: 'connection_opened'; connection: ConnectionRecord };

export interface Delivery {
  sent: number;
  gone: number;
}

export async function fanOut(deps: Deps, change: Change): Promise<Delivery> {
  switch (change.kind) {
    case 'message_created':
      return deliverToRoom(deps, change.message.roomId, { type: 'message_new', message: messageView(change.message) });
    case 'connection_opened': {
      const { connectionId, userId } = change.connection;
      const frame: ServerFrame = { type: 'connection_established', connectionId, userId, serverTime: deps.clock.now().toISOString() };
      return deliver(deps, [change.connection], frame);
    }
  }
}

/**
 * Sends `frame` to every connection of every member of the room: one query for the member ids,
 * one per member for their connections. Users outside the room are never read, and a
 * connection scoped to another room is skipped.
 */
export async function deliverToRoom(deps: Deps, roomId: string, frame: ServerFrame): Promise<Delivery> {
  const memberIds = await deps.rooms.listMemberIds(roomId);
  const connections = await deps.connections.connectionsOf(memberIds);
  return deliver(
    deps,
    connections.filter((c) => c.scopeRoomId === undefined || c.scopeRoomId === roomId),
    frame,
  );
}

/** One PostToConnection per connection; a connection API Gateway no longer knows (410) is removed. */
async function deliver(deps: Deps, connections: ConnectionRecord[], frame: ServerFrame): Promise<Delivery> {
  const results = await Promise.all(
    connections.map(async (c) => {
      const outcome = await deps.broadcaster.send(c.connectionId, frame);
      if (outcome === 'gone') await deps.connections.deleteConnection(c.connectionId);
      return outcome;
    }),
  );
  return { sent: results.filter((r) => r === 'sent').length, gone: results.filter((r) => r === 'gone').length };
}
