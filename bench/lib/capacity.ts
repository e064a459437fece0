import { AsyncLocalStorage } from 'node:async_hooks';
import { api } from '#test/support/clients.ts';
import { httpRoutes, streamFn } from '#infra/routes.ts';
import { runAs } from '#infra/local/iam.ts';
import type { CapacityReading } from '#shared/adapters/dynamodb/capacity.ts';
import { fanOut } from '#shared/domain/fanout.ts';
import { fanOutWirings, getDeps } from '#functions/lib/deps.ts';
import { BenchSocket, createRoom, createUsers, inBatches, randomTextOf, textOf, type TestUser } from './clients.ts';
import { WORKLOAD } from './bill.ts';
import { addUnits, noUnits, type Call, type Units } from './meter.ts';
import { closeAndForget, waitUntil, type Bench } from './harness.ts';
import { median } from './stats.ts';

/** Exactly 1 KB of text (ordinary English prose, `textOf`): the message every cost figure is for. */
export const MESSAGE_BYTES = 1024;

export interface OperationCost {
  name: string;
  /** False when its route is not in infra/routes.ts yet. */
  implemented: boolean;
  /** The request's own calls (the handler), then the fan-out its stored change caused. */
  calls: (Call & { stage: 'request' | 'fan-out' })[];
  request: { local: Units; aws: Units };
  fanOut: { local: Units; aws: Units };
  /** PostToConnection calls it caused, and how many of them went to connections outside the room. */
  posts: number;
  postsOutside: number;
}

/**
 * The fan-out's lookups, by store operation: its member ids (none when it used the ids read for an
 * earlier message of the room), the room's live list (shared/domain/live.ts; the marker of since
 * when the lists are kept is read once by a store) or, before the lists serve, its presence reads.
 * The first of them starts the fan-out.
 */
export const FAN_OUT_LOOKUPS: ReadonlySet<string> = new Set(['listMemberIds', 'liveIn', 'liveListsSince', 'connectionsOf']);

/** What the fan-out writes and reads to keep the rooms' live lists (a connect, a disconnect, a join, a removal): its stage in the rows of each operation. */
export const LIVE_LIST_UPKEEP: ReadonlySet<string> = new Set(['seatRoomIdsNow', 'listLive', 'unlistLive', 'openConnectionsOf', 'markLiveLists']);

export interface FanOutCost {
  /** Store operations the fan-out made, once per event or once per member looked up. */
  perEvent: { operation: string; local: Units; aws: Units }[];
  perMember: { operation: string; local: Units; aws: Units }[];
  members: number;
  total: { local: Units; aws: Units };
  /**
   * The same fan-out when its store keeps the room's member ids from an earlier message of the
   * same member version (a busy room's, in the same instance): no read of members.
   */
  membersKnown: { local: Units; aws: Units };
}

/** The reference room of the bill (`WORKLOAD`): its members, some of them online. */
export interface ReferenceRoom {
  roomId: string;
  members: TestUser[];
  online: BenchSocket[];
}

const sum = (calls: readonly Call[], pick: (c: Call) => Units) => calls.reduce((u, c) => addUnits(u, pick(c)), noUnits());
const totals = (calls: readonly Call[]) => ({ local: sum(calls, (c) => c.local), aws: sum(calls, (c) => c.aws) });

export async function createReferenceRoom(bench: Bench, label: string): Promise<ReferenceRoom> {
  const members = await createUsers(bench.stack.httpUrl, label, WORKLOAD.roomMembers);
  const roomId = await createRoom(bench.stack.httpUrl, members[0]!, members.slice(1));
  const online = await inBatches(members.slice(0, WORKLOAD.online), WORKLOAD.online, (u) => BenchSocket.open(bench.stack.wsUrl, u));
  return { roomId, members, online };
}

const tagged = new AsyncLocalStorage<true>();

/**
 * The fan-out of one stored message, called directly (as the stream handler would) so that every
 * DynamoDB call it makes is known to be the fan-out's: per event, and per member looked up. As
 * the bill counts it: a fan-out that reads the room's members, as one in an instance that has not
 * seen the room's member version does (the message without its version takes the same reads);
 * and apart, one whose store keeps the ids (`membersKnown`).
 */
export async function measureFanOut(bench: Bench, room: ReferenceRoom): Promise<FanOutCost> {
  // As the fan-out function, in its own container (warm from the room's earlier messages: what it
  // reads once in its life, the live lists' marker, is no event's) and under its grants.
  const deps = runAs(streamFn, () => getDeps(...fanOutWirings));
  const fanOutOf = (change: Parameters<typeof fanOut>[1]) => runAs(streamFn, () => fanOut(deps, change));
  const [message] = await deps.messages.listMessages(room.roomId, { limit: 1 });
  if (!message) throw new Error('the room has no message to fan out');
  const { membersAt: _version, ...unversioned } = message;
  const calls = await fanOutCalls(bench, () => fanOutOf({ kind: 'message_created', message: unversioned }));
  // Twice, so the ids are kept whether or not the stream's fan-out of this message noted its
  // version in this store: noted (or already), read strongly consistent and kept (or already).
  for (let i = 0; i < 2; i++) await fanOutOf({ kind: 'message_created', message });
  const known = await fanOutCalls(bench, () => fanOutOf({ kind: 'message_created', message }));
  const byOperation = new Map<string, Call[]>();
  for (const c of calls) byOperation.set(c.operation, [...(byOperation.get(c.operation) ?? []), c]);
  const members = room.members.length;
  const group = (perMember: boolean) =>
    [...byOperation]
      .filter(([, cs]) => (cs.length === members) === perMember)
      .map(([operation, cs]) => {
        const t = totals(cs);
        const per = perMember ? members : 1;
        return { operation, local: scale(t.local, 1 / per), aws: scale(t.aws, 1 / per) };
      });
  return { perEvent: group(false), perMember: group(true), members, total: totals(calls), membersKnown: totals(known) };
}

/** The store calls `run` makes, priced. */
async function fanOutCalls(bench: Bench, run: () => Promise<unknown>): Promise<Call[]> {
  await bench.settle();
  const readings: CapacityReading[] = [];
  const stop = bench.recorder.tap((r) => tagged.getStore() && readings.push(r));
  try {
    await tagged.run(true, run);
  } finally {
    stop();
  }
  await bench.settle();
  return bench.calls(readings);
}

const scale = (u: Units, f: number): Units => ({ readTable: u.readTable * f, readGsi: u.readGsi * f, writeTable: u.writeTable * f, writeGsi: u.writeGsi * f });

const hasRoute = (method: string, path: string) => httpRoutes.some((r) => r.method === method && r.path === path);

/**
 * Capacity units and PostToConnection calls of each operation, in the reference room. A window
 * per operation: everything settled, the operation, its answer, its fan-out settled. Calls made by
 * store operations the fan-out uses (learned from `measureFanOut`) count as its fan-out. With
 * `wide`, last, a connect and a disconnect of a user in many rooms (wide-user.ts).
 */
export async function measureOperations(
  bench: Bench,
  room: ReferenceRoom,
  fanOutOperations: ReadonlySet<string>,
  outsiders: ReadonlySet<string>,
  wide?: { user: TestUser; rooms: number },
) {
  const { httpUrl, wsUrl } = bench.stack;
  const [owner, second] = [room.members[0]!, room.members[1]!];
  const sender = room.online[0]!;
  const results: OperationCost[] = [];

  const measure = async (name: string, run: () => Promise<unknown>): Promise<void> => {
    await bench.settle();
    await run();
    await bench.stack.streamDrained();
    const { readings, posts } = bench.recorder.take();
    const calls = (await bench.calls(readings)).map((c) => ({ ...c, stage: fanOutOperations.has(c.operation) ? ('fan-out' as const) : ('request' as const) }));
    results.push({
      name,
      implemented: true,
      calls,
      request: totals(calls.filter((c) => c.stage === 'request')),
      fanOut: totals(calls.filter((c) => c.stage === 'fan-out')),
      posts: posts.length,
      postsOutside: posts.filter((p) => outsiders.has(p.connectionId)).length,
    });
  };
  const notYet = (name: string) => results.push({ name, implemented: false, calls: [], request: totals([]), fanOut: totals([]), posts: 0, postsOutside: 0 });
  const ok = async (what: string, res: Promise<{ status: number; body: unknown }>) => {
    const { status, body } = await res;
    if (status < 200 || status > 299) throw new Error(`${what}: ${status} ${JSON.stringify(body)}`);
    return body as Record<string, any>;
  };

  let extra: BenchSocket | undefined;
  await measure('connect', async () => {
    extra = await BenchSocket.open(wsUrl, room.members[3]!);
  });
  // $disconnect runs after the close: done when the connection item is gone.
  await measure('disconnect', () => closeAndForget(bench, extra!));
  let sent = { id: '' };
  await measure('send 1 KB text', async () => {
    const ack = await sender.request({ type: 'message_send', roomId: room.roomId, content: textOf('cost', MESSAGE_BYTES) });
    if (ack.type !== 'ack') throw new Error(`message_send: ${JSON.stringify(ack)}`);
    sent = ack.result as { id: string };
  });
  await measure('send 1 KB text with clientMessageId', async () => {
    const ack = await sender.request({ type: 'message_send', roomId: room.roomId, content: textOf('idem', MESSAGE_BYTES), clientMessageId: `bench-${Date.now()}` });
    if (ack.type !== 'ack') throw new Error(`message_send: ${JSON.stringify(ack)}`);
  });

  const messagePath = `/rooms/${room.roomId}/messages/${sent.id}`;
  if (hasRoute('PATCH', '/rooms/{roomId}/messages/{messageId}')) {
    await measure('edit', () => ok('edit', api(httpUrl, 'PATCH', messagePath, { token: owner.token, body: { content: textOf('edited', MESSAGE_BYTES) } })));
  } else notYet('edit');
  if (hasRoute('PUT', '/rooms/{roomId}/messages/{messageId}/reactions/{emoji}')) {
    await measure('react', () => ok('react', api(httpUrl, 'PUT', `${messagePath}/reactions/${encodeURIComponent('👍')}`, { token: second.token })));
  } else notYet('react');
  if (hasRoute('POST', '/rooms/{roomId}/read')) {
    await measure('mark read', () => ok('read', api(httpUrl, 'POST', `/rooms/${room.roomId}/read`, { token: second.token, body: { messageId: sent.id } })));
  } else notYet('mark read');

  // Full pages of history: 50 messages of 1 KB each, the newest page and the one before it.
  await inBatches(Array.from({ length: 100 }), 5, (_, i) =>
    ok('seed', api(httpUrl, 'POST', `/rooms/${room.roomId}/messages`, { token: owner.token, body: { content: textOf(`h${i}`, MESSAGE_BYTES) } })),
  );
  let oldestSeq = 0;
  await measure('history page of 50', async () => {
    const page = await ok('history', api(httpUrl, 'GET', `/rooms/${room.roomId}/messages?limit=50`, { token: owner.token }));
    if (page.items.length !== 50) throw new Error(`history returned ${page.items.length} messages`);
    oldestSeq = Math.min(...page.items.map((m: { seq: number }) => m.seq));
  });
  await measure('older history page of 50', async () => {
    const page = await ok('history', api(httpUrl, 'GET', `/rooms/${room.roomId}/messages?limit=50&beforeSeq=${oldestSeq}`, { token: owner.token }));
    if (page.items.length !== 50) throw new Error(`older history returned ${page.items.length} messages`);
  });
  // Search reads history: a word no message has makes it read the whole room (100+ messages of 1 KB).
  if (hasRoute('GET', '/search')) {
    await measure(`search a room of ${oldestSeq + 49} messages`, async () => {
      const found = await ok('search', api(httpUrl, 'GET', `/search?q=nowhere&roomId=${room.roomId}`, { token: owner.token }));
      if (found.items.length !== 0 || found.nextCursor) throw new Error('search did not read the whole room');
    });
  } else notYet('search');

  // My rooms: the owner belongs to this room and 9 more, each with a 1 KB last message.
  await inBatches(Array.from({ length: 9 }), 3, async (_, i) => {
    const id = await createRoom(httpUrl, owner, [room.members[1 + i]!]);
    await ok('seed', api(httpUrl, 'POST', `/rooms/${id}/messages`, { token: owner.token, body: { content: textOf(`r${i}`, MESSAGE_BYTES) } }));
  });
  await measure('list my rooms (10)', async () => {
    const list = await ok('rooms', api(httpUrl, 'GET', '/rooms', { token: owner.token }));
    if (list.items.length !== 10) throw new Error(`GET /rooms returned ${list.items.length} rooms`);
  });
  // The other end of the reference message: a text compression can hardly shorten (base64 of
  // random bytes keeps 6 bits of 8). Last, so that the rooms and pages above are as before.
  await measure('send 1 KB random base64 text', async () => {
    const ack = await sender.request({ type: 'message_send', roomId: room.roomId, content: randomTextOf('random', MESSAGE_BYTES) });
    if (ack.type !== 'ack') throw new Error(`message_send: ${JSON.stringify(ack)}`);
  });
  if (wide) {
    let socket: BenchSocket | undefined;
    await measure(`connect, a user in ${wide.rooms} rooms`, async () => {
      socket = await BenchSocket.open(wsUrl, wide.user, 30_000);
    });
    await measure(`disconnect, a user in ${wide.rooms} rooms`, () => closeAndForget(bench, socket!));
  }
  return results;
}

/**
 * Handler time of a send and of its fan-out in the reference room, medians over `n` sends (for the
 * bill), after `warmup` unrecorded ones: DynamoDB Local's JVM is still compiling its hot paths this
 * early in a run, and its first hundred sends or so take up to twice as long.
 */
export async function measureSendDurations(bench: Bench, room: ReferenceRoom, fanOutOperations: ReadonlySet<string>, n: number, warmup = 0) {
  const sendMs: number[] = [];
  const fanOutMs: number[] = [];
  const sender = room.online[0]!;
  for (let i = -warmup; i < n; i++) {
    await bench.settle();
    let lastDelivery = 0;
    let delivered = 0;
    for (const s of room.online) {
      s.onFrame = (f, at) => {
        if (f.type === 'message_new' && String(f.message.content).startsWith(`dur${i} `)) {
          delivered++;
          lastDelivery = Math.max(lastDelivery, at);
        }
      };
    }
    await sender.request({ type: 'message_send', roomId: room.roomId, content: textOf(`dur${i}`, MESSAGE_BYTES) });
    await waitUntil('delivery to every online member', () => delivered === room.online.length);
    await bench.stack.streamDrained();
    const { readings } = bench.recorder.take();
    if (i < 0) continue;
    const request = readings.filter((r) => !fanOutOperations.has(r.operation));
    const fan = readings.filter((r) => fanOutOperations.has(r.operation));
    sendMs.push(Math.max(...request.map((r) => r.endedAt)) - Math.min(...request.map((r) => r.startedAt)));
    fanOutMs.push(lastDelivery - Math.min(...fan.map((r) => r.startedAt)));
  }
  for (const s of room.online) s.onFrame = () => undefined;
  return { sendMs: median(sendMs), fanOutMs: median(fanOutMs), n };
}
