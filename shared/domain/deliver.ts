import type { ConnectionTarget } from '#shared/model.ts';
import type { Deps } from '#shared/ports/runtime.ts';
import type { ServerFrame } from '#shared/schemas/frames.ts';
import type { PreparedFrame } from '#shared/ports/broadcaster.ts';
import type { FanOutChunk, FanOutWorkers } from '#shared/ports/fanout-workers.ts';
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
 * Posts in flight at once in one delivery, and sockets the `@connections` client keeps open: past
 * this, more concurrent posts only queue behind one another (bench: the fan-out floor).
 */
export const POST_CONCURRENCY = 64;

/**
 * One PostToConnection per connection, at most POST_CONCURRENCY at a time. `frameFor` is called
 * once per user and each distinct frame is serialized once, before the first post, so the
 * per-connection path is the post alone. A connection API Gateway no longer knows (410) is
 * forgotten afterwards, item and presence entry.
 */
export async function deliver(
  deps: Deps,
  connections: readonly ConnectionTarget[],
  frameFor: FrameFor,
  afterSend?: (c: ConnectionTarget, outcome: 'sent' | 'gone') => Promise<unknown>,
): Promise<Delivery> {
  if (connections.length === 0) return { sent: 0, gone: 0 };
  const byUser = new Map<string, PreparedFrame>();
  const serialized = new Map<ServerFrame, PreparedFrame>();
  for (const userId of new Set(connections.map((c) => c.userId))) {
    const made = frameFor(userId);
    const frame = made instanceof Promise ? await made : made;
    let prepared = serialized.get(frame);
    if (!prepared) serialized.set(frame, (prepared = { frame, data: JSON.stringify(frame) }));
    byUser.set(userId, prepared);
  }
  if (deps.workers && !afterSend && connections.length > deps.workers.chunkSize) return splitAcrossWorkers(deps.workers, connections, byUser);
  const gone: ConnectionTarget[] = [];
  let sent = 0;
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < connections.length) {
      const c = connections[next++]!;
      const outcome = await deps.broadcaster.post(c.connectionId, byUser.get(c.userId)!);
      if (outcome === 'sent') sent++;
      else gone.push(c);
      if (afterSend) await afterSend(c, outcome);
    }
  };
  await Promise.all(Array.from({ length: Math.min(POST_CONCURRENCY, connections.length) }, lane));
  await Promise.all(gone.map((c) => forgetGoneConnection(deps, c.connectionId)));
  return { sent, gone: gone.length };
}

/**
 * A delivery too large for one invocation to post quickly, split across workers that post at
 * once. It resolves when every worker is done, so the next event of the room starts after it:
 * each connection still gets a room's events in order.
 */
async function splitAcrossWorkers(workers: FanOutWorkers, connections: readonly ConnectionTarget[], byUser: ReadonlyMap<string, PreparedFrame>): Promise<Delivery> {
  const chunks: FanOutChunk[] = [];
  for (let i = 0; i < connections.length; i += workers.chunkSize) {
    const frames: string[] = [];
    const index = new Map<PreparedFrame, number>();
    const targets = connections.slice(i, i + workers.chunkSize).map((c): FanOutChunk['targets'][number] => {
      const prepared = byUser.get(c.userId)!;
      let n = index.get(prepared);
      if (n === undefined) index.set(prepared, (n = frames.push(prepared.data) - 1));
      return [c.connectionId, c.userId, n];
    });
    chunks.push({ frames, targets });
  }
  const results = await workers.run(chunks);
  return { sent: results.reduce((n, r) => n + r.sent, 0), gone: results.reduce((n, r) => n + r.gone, 0) };
}

/** A worker's share: posted as any delivery is (gone connections forgotten), never split again. */
export function deliverChunk(deps: Deps, chunk: FanOutChunk): Promise<Delivery> {
  const prepared = chunk.frames.map((data): PreparedFrame => ({ frame: JSON.parse(data) as ServerFrame, data }));
  const connections = chunk.targets.map(([connectionId, userId]) => ({ connectionId, userId }));
  const frameOf = new Map(chunk.targets.map(([, userId, n]) => [userId, prepared[n]!.frame]));
  const { workers: _none, ...alone } = deps;
  return deliver(alone, connections, (userId) => frameOf.get(userId)!);
}
