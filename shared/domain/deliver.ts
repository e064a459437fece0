import type { ConnectionTarget } from '#shared/model.ts';
import type { Deps } from '#shared/ports/runtime.ts';
import type { ServerFrame } from '#shared/schemas/frames.ts';
import { forgetGoneConnection } from './connections.ts';

/**
 * Posting frames to connections: the leaf every announcer (fan-out, presence, room events,
 * typing) imports, so none of them imports another.
 */

export interface Delivery {
  sent: number;
  gone: number;
}

export type FrameFor = (userId: string) => ServerFrame | Promise<ServerFrame>;

/**
 * Sends a frame to every connection of every member of the room: one query for the member ids,
 * one per member for their connections. Users outside the room are never read. A connection
 * scoped to another room is skipped unless its user is in `alsoScoped` (mentions).
 */
export async function deliverToRoom(
  deps: Deps,
  roomId: string,
  frameFor: FrameFor,
  alsoScoped: string[] = [],
  except?: { userId: string },
): Promise<Delivery> {
  const memberIds = (await deps.rooms.listMemberIds(roomId)).filter((id) => id !== except?.userId);
  const connections = await deps.connections.connectionsOf(memberIds);
  return deliver(
    deps,
    connections.filter((c) => c.scopeRoomId === undefined || c.scopeRoomId === roomId || alsoScoped.includes(c.userId)),
    frameFor,
  );
}

/**
 * One PostToConnection per connection. A connection API Gateway no longer knows (410) is
 * forgotten, item and presence entry. `frameFor` is called once per user.
 */
export async function deliver(
  deps: Deps,
  connections: ConnectionTarget[],
  frameFor: FrameFor,
  afterSend?: (c: ConnectionTarget, outcome: 'sent' | 'gone') => Promise<unknown>,
): Promise<Delivery> {
  const frames = new Map<string, Promise<ServerFrame>>();
  const results = await Promise.all(
    connections.map(async (c) => {
      let frame = frames.get(c.userId);
      if (!frame) frames.set(c.userId, (frame = Promise.resolve(frameFor(c.userId))));
      const outcome = await deps.broadcaster.send(c.connectionId, await frame);
      if (outcome === 'gone') await forgetGoneConnection(deps, c.connectionId);
      await afterSend?.(c, outcome);
      return outcome;
    }),
  );
  return { sent: results.filter((r) => r === 'sent').length, gone: results.filter((r) => r === 'gone').length };
}
