import type { ConnectionTarget } from '#shared/model.ts';
import type { Deps } from '#shared/ports/runtime.ts';
import type { ServerFrame } from '#shared/schemas/frames.ts';
import type { PreparedFrame } from '#shared/ports/broadcaster.ts';
import type { FanOutChunk } from '#shared/ports/fanout-workers.ts';
import { forgetGoneConnection } from './connections.ts';
import { liveListsServe } from './live.ts';

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
 * What a delivery sends: one frame for everyone (serialized once for the whole delivery), or a
 * frame made per user for frames that differ by recipient.
 */
export type Frames = ServerFrame | FrameFor;

/**
 * Sends a frame to every connection of every member of the room. Where the rooms' live lists serve
 * (live.ts), one Query of the room's list finds the connections, and the room's member ids (read,
 * or kept from the room's earlier messages of the same member version with `membersAt`) say which
 * of them are members still; posting starts with the list's first page. Before that, a query for
 * the member ids and batch reads of their presence items: each page of ids starts its reads as it
 * lands, and posting starts with the first read to land. Users outside the room are never read. A
 * connection scoped to another room is skipped unless its user is in `alsoScoped` (mentions).
 */
export async function deliverToRoom(
  deps: Deps,
  roomId: string,
  frames: Frames,
  opts: { alsoScoped?: readonly string[]; except?: { userId: string }; membersAt?: number } = {},
): Promise<Delivery> {
  const { alsoScoped = [], except, membersAt } = opts;
  const delivery = new Delivering(deps, frames);
  const reached = (c: ConnectionTarget) => c.scopeRoomId === undefined || c.scopeRoomId === roomId || alsoScoped.includes(c.userId);
  const reads: Promise<unknown>[] = [];
  let listed: Promise<unknown>;
  const fromLists = await liveListsServe(deps);
  if (fromLists) {
    const members = deps.rooms.listMemberIds(roomId, undefined, membersAt).then((ids) => new Set(ids));
    reads.push(members);
    const recipient = (ids: Set<string>) => (c: ConnectionTarget) => ids.has(c.userId) && c.userId !== except?.userId && reached(c);
    listed = deps.connections.liveIn(roomId, (page) => reads.push(members.then((ids) => delivery.add(page.filter(recipient(ids))))));
  } else {
    const onPage = (page: readonly string[]) => {
      const ids = except ? page.filter((id) => id !== except.userId) : page;
      if (ids.length > 0) reads.push(deps.connections.connectionsOf(ids, (found) => delivery.add(found.filter(reached))));
    };
    listed = deps.rooms.listMemberIds(roomId, onPage, membersAt);
  }
  // The reads a failed query had started are waited for too, so nothing is posted after this returns.
  const lookups = listed.then(
    () => Promise.all(reads),
    async (error: unknown) => {
      await Promise.allSettled(reads);
      throw error;
    },
  );
  await delivery.finish(lookups);
  // An entry of a connection API Gateway no longer knows (one whose removal raced its listing) goes.
  if (fromLists && delivery.goneHere.length > 0) await deps.connections.unlistLive([roomId], delivery.goneHere.map((c) => c.connectionId));
  return delivery.result();
}

/**
 * Posts in flight at once in one delivery, and sockets the `@connections` client keeps open: past
 * this, more concurrent posts only queue behind one another (bench: the fan-out floor).
 */
export const POST_CONCURRENCY = 64;

/**
 * One PostToConnection per connection, at most POST_CONCURRENCY at a time. A per-user `frames` is
 * called once per user; each distinct frame (equal JSON) is serialized once, before the first
 * post, so the per-connection path is the post alone. A connection API Gateway no longer knows
 * (410) is forgotten afterwards, item and presence entry.
 */
export async function deliver(
  deps: Deps,
  connections: readonly ConnectionTarget[],
  frames: Frames,
  afterSend?: (c: ConnectionTarget, outcome: 'sent' | 'gone') => Promise<unknown>,
): Promise<Delivery> {
  if (connections.length === 0) return { sent: 0, gone: 0 };
  const delivery = new Delivering(deps, frames, afterSend);
  delivery.add(connections);
  await delivery.finish();
  return delivery.result();
}

/**
 * One delivery whose connections may arrive in parts (as lookups land): each part's frames are
 * made, then its connections are posted by lanes that start as soon as there is work, at most
 * POST_CONCURRENCY. With workers (the stream fan-out's, no `afterSend`): while every connection so
 * far fits one worker's share, this invocation posts them itself; once a part takes the total past
 * it, that part and every later one go to workers, a chunk as soon as it is full, the rest at the
 * end. A delivery whose connections all land at once (a room read in one batch) is therefore posted
 * by itself or by workers alone, as before parts existed. It resolves when every post, its own and
 * its workers', is made: the room's next event waits for it.
 */
class Delivering {
  private readonly byUser = new Map<string, PreparedFrame>();
  /** The frame every user gets, when the delivery has one for all. */
  private readonly shared: PreparedFrame | undefined;
  private readonly frameFor: FrameFor | undefined;
  private readonly serialized = new Map<ServerFrame, PreparedFrame>();
  /** By JSON: per-user frames that come out equal share one body (one hash, one entry in a worker's chunk). */
  private readonly byData = new Map<string, PreparedFrame>();
  private readonly queue: ConnectionTarget[] = [];
  private next = 0;
  private running = 0;
  private readonly work: Promise<unknown>[] = [];
  private failure: { error: unknown } | undefined;
  private sent = 0;
  private readonly gone: ConnectionTarget[] = [];
  private total = 0;
  private split = false;
  private pendingChunk: ConnectionTarget[] = [];
  private readonly workerResults: { sent: number; gone: number }[] = [];
  /** Frames still being made (an async `frameFor`), so that parts are queued in the order they came. */
  private framing: Promise<void> = Promise.resolve();

  constructor(
    private readonly deps: Deps,
    frames: Frames,
    private readonly afterSend?: (c: ConnectionTarget, outcome: 'sent' | 'gone') => Promise<unknown>,
  ) {
    if (typeof frames === 'function') this.frameFor = frames;
    else this.shared = this.prepare(frames);
  }

  /** A part of the connections; never throws (a failure is kept for `finish`). */
  add(connections: readonly ConnectionTarget[]): void {
    if (connections.length === 0) return;
    const made = this.framesFor(connections);
    if (made === undefined) return this.route(connections);
    // Its failure is the chain's (kept by `track`), even when an earlier part's failed first.
    made.catch(() => undefined);
    this.track((this.framing = this.framing.then(() => made).then(() => this.route(connections))));
  }

  /** Waits for `lookups` (whose parts were given to `add`), then for every post; throws the first failure. */
  async finish(lookups?: Promise<unknown>): Promise<void> {
    if (lookups) await this.settle(lookups);
    await this.settle(this.framing);
    if (this.split && this.pendingChunk.length > 0) this.ship(this.pendingChunk.splice(0));
    // Lanes and shipments started while waiting are in `work`; none starts after this point.
    for (let seen = 0; seen < this.work.length; ) {
      const upTo = this.work.length;
      await Promise.all(this.work.slice(seen, upTo));
      seen = upTo;
    }
    if (this.failure) throw this.failure.error;
    await Promise.all(this.gone.map((c) => forgetGoneConnection(this.deps, c.connectionId)));
  }

  /** The connections this invocation found gone (its workers' are their own). */
  get goneHere(): readonly ConnectionTarget[] {
    return this.gone;
  }

  result(): Delivery {
    return {
      sent: this.sent + this.workerResults.reduce((n, r) => n + r.sent, 0),
      gone: this.gone.length + this.workerResults.reduce((n, r) => n + r.gone, 0),
    };
  }

  private async settle(p: Promise<unknown>): Promise<void> {
    try {
      await p;
    } catch (error) {
      this.failure ??= { error };
    }
  }

  private track(p: Promise<unknown>): void {
    this.work.push(p.catch((error: unknown) => void (this.failure ??= { error })));
  }

  /** Makes the frames of users not seen yet; a promise when one of them is made asynchronously. */
  private framesFor(connections: readonly ConnectionTarget[]): Promise<void> | undefined {
    if (!this.frameFor) return undefined;
    let pending: Promise<void> | undefined;
    for (const c of connections) {
      if (this.byUser.has(c.userId)) continue;
      const made = this.frameFor(c.userId);
      if (made instanceof Promise) {
        const userId = c.userId;
        // Held by a placeholder so the user is asked once; replaced when it resolves.
        this.byUser.set(userId, undefined as unknown as PreparedFrame);
        pending = Promise.all([pending, made.then((frame) => void this.byUser.set(userId, this.prepare(frame)))]).then(() => undefined);
      } else this.byUser.set(c.userId, this.prepare(made));
    }
    return pending;
  }

  private prepare(frame: ServerFrame): PreparedFrame {
    let prepared = this.serialized.get(frame);
    if (prepared) return prepared;
    const data = JSON.stringify(frame);
    prepared = this.byData.get(data);
    if (!prepared) this.byData.set(data, (prepared = { frame, data }));
    this.serialized.set(frame, prepared);
    return prepared;
  }

  private frameOf(userId: string): PreparedFrame {
    return this.shared ?? this.byUser.get(userId)!;
  }

  private route(connections: readonly ConnectionTarget[]): void {
    const workers = this.afterSend ? undefined : this.deps.workers;
    this.total += connections.length;
    if (workers && (this.split || this.total > workers.chunkSize)) {
      this.split = true;
      this.pendingChunk.push(...connections);
      while (this.pendingChunk.length >= workers.chunkSize) this.ship(this.pendingChunk.splice(0, workers.chunkSize));
      return;
    }
    this.queue.push(...connections);
    // Every lane takes a connection before its first await, so this stops.
    while (this.running < POST_CONCURRENCY && this.next < this.queue.length && !this.failure) this.track(this.lane());
  }

  private async lane(): Promise<void> {
    this.running++;
    try {
      while (this.next < this.queue.length && !this.failure) {
        const c = this.queue[this.next++]!;
        const outcome = await this.deps.broadcaster.post(c.connectionId, this.frameOf(c.userId));
        if (outcome === 'sent') this.sent++;
        else this.gone.push(c);
        if (this.afterSend) await this.afterSend(c, outcome);
      }
    } finally {
      this.running--;
    }
  }

  private ship(connections: ConnectionTarget[]): void {
    const chunk = toChunk(connections, (userId) => this.frameOf(userId));
    this.track(this.deps.workers!.run([chunk]).then((results) => void this.workerResults.push(...results)));
  }
}

/** A worker's share: the distinct frames of these connections, serialized once, and the connections. */
function toChunk(connections: readonly ConnectionTarget[], frameOf: (userId: string) => PreparedFrame): FanOutChunk {
  const frames: string[] = [];
  const index = new Map<PreparedFrame, number>();
  const targets = connections.map((c): FanOutChunk['targets'][number] => {
    const prepared = frameOf(c.userId);
    let n = index.get(prepared);
    if (n === undefined) index.set(prepared, (n = frames.push(prepared.data) - 1));
    return [c.connectionId, c.userId, n];
  });
  return { frames, targets };
}

/** A worker's share: posted as any delivery is (gone connections forgotten), never split again. */
export function deliverChunk(deps: Deps, chunk: FanOutChunk): Promise<Delivery> {
  const prepared = chunk.frames.map((data): PreparedFrame => ({ frame: JSON.parse(data) as ServerFrame, data }));
  const connections = chunk.targets.map(([connectionId, userId]) => ({ connectionId, userId }));
  const frameOf = new Map(chunk.targets.map(([, userId, n]) => [userId, prepared[n]!.frame]));
  const { workers: _none, ...alone } = deps;
  return deliver(alone, connections, (userId) => frameOf.get(userId)!);
}
