import { BenchSocket, createRoom, createUsers, inBatches, textOf } from './clients.ts';
import { MESSAGE_BYTES } from './capacity.ts';
import type { Bench } from './harness.ts';
import { distribution, type Distribution } from './stats.ts';

export interface RoomRun {
  /** Connected members, each with one connection; every one of them (the sender too) gets message_new. */
  members: number;
  messages: number;
  /** True when the time budget ran out before `messages` reached what was asked. */
  cutShort: boolean;
  /** `message_send` → `message_new`, at every recipient. */
  endToEnd: Distribution;
  /** `message_send` → `message_new` at the last recipient. */
  lastRecipient: Distribution;
  /** `message_send` → `ack` at the sender. */
  ack: Distribution;
  /** Message stored → fan-out's first DynamoDB call: the stream poll wait (and GetRecords, invoke). */
  streamWait: Distribution;
  /** Last recipient's latency minus the stream wait: the handler storing it, plus the fan-out delivering it. */
  overhead: Distribution;
  /** Fan-out's first DynamoDB call → last recipient has it. */
  fanOut: Distribution;
  /** Of which: fan-out's first DynamoDB call → its first PostToConnection (the member and connection lookups). */
  lookups: Distribution;
  /** Where the send handler's and the fan-out's time goes, phase by phase (see RoomPhases). */
  phases: RoomPhases;
  /** PostToConnection calls per message: min and max over the run. */
  postsPerMessage: { min: number; max: number };
  /** Frames that reached connections outside the room, and posts addressed to them: both must be 0. */
  outsideFrames: number;
  outsidePosts: number;
  /** Every end-to-end sample, for the chart (not written to JSON). */
  samples: number[];
}

/**
 * The phases of one message's way, each a distribution over the run's messages, ms. The send
 * handler's from its DynamoDB calls (the first one's start to the last write before the fan-out);
 * the fan-out's from its first DynamoDB call (the member query), its reads and its posts as the
 * broadcaster hands them to the `@connections` client.
 */
export interface RoomPhases {
  /** `message_send` leaves the client → the send handler's first DynamoDB call starts (gateway, authorizer context, parse). */
  toSendHandler: Distribution;
  /** The send handler's first DynamoDB call starts → the message is stored (its last write before the fan-out). */
  sendStores: Distribution;
  /** Fan-out's first call → the first page of member ids has landed. */
  firstMemberPage: Distribution;
  /** Fan-out's first call → the last page of member ids has landed. */
  memberQuery: Distribution;
  /** Fan-out's first call → the first page of the room's live list (before the lists serve: the first presence batch read) has landed. */
  firstBatch: Distribution;
  /** Fan-out's first call → the last page of the room's live list (before the lists serve: the last presence batch read) has landed. */
  allBatches: Distribution;
  /** Fan-out's first call → its last post is handed to the client. */
  lastPost: Distribution;
  /** The last post handed to the client → the last recipient has the frame. */
  lastPostToArrival: Distribution;
}

export interface RunOptions {
  members: number;
  messages: number;
  /** Connected users who are not in the room. */
  outsiders: number;
  budgetMs: number;
  fanOutOperations: ReadonlySet<string>;
  /** Messages sent first and not counted (JIT, connection pools). */
  warmup?: number;
  /** Runs after each counted message, outside its timing (e.g. a floor run under the same load); gets the members' sockets and the message's index. */
  afterEach?: (members: readonly BenchSocket[], n: number) => Promise<void>;
  /** Runs while every socket is still open (e.g. a measurement that needs these connections around); gets the members' sockets. */
  during?: (members: readonly BenchSocket[]) => Promise<void>;
}

/**
 * One room of `members` connected members and some connected outsiders; messages sent one at a
 * time (the next once everyone has the last), so each is timed alone. The sender rotates.
 */
export async function runRoom(bench: Bench, opts: RunOptions): Promise<RoomRun> {
  const { httpUrl, wsUrl } = bench.stack;
  const users = await createUsers(httpUrl, `lat${opts.members}`, opts.members + opts.outsiders);
  const members = users.slice(0, opts.members);
  const roomId = await createRoom(httpUrl, members[0]!, members.slice(1));
  const sockets = await inBatches(members, 20, (u) => BenchSocket.open(wsUrl, u));
  const outside = await inBatches(users.slice(opts.members), 20, (u) => BenchSocket.open(wsUrl, u));
  const memberConnections = new Set(sockets.map((s) => s.connectionId));

  let current = { tag: '', t0: 0, times: [] as number[], done: () => undefined as void };
  for (const s of sockets) {
    s.onFrame = (f, at) => {
      if (f.type !== 'message_new' || !String(f.message.content).startsWith(`${current.tag} `)) return;
      current.times.push(at - current.t0);
      if (current.times.length === sockets.length) current.done();
    };
  }

  const send = async (tag: string, senderIndex: number) => {
    const all = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${tag}: ${current.times.length} of ${sockets.length} got it in 10 s`)), 10_000);
      current = { tag, t0: performance.now(), times: [], done: () => (clearTimeout(timer), resolve()) };
    });
    const sender = sockets[senderIndex % sockets.length]!;
    const ack = await sender.request({ type: 'message_send', roomId, content: textOf(tag, MESSAGE_BYTES) });
    if (ack.type !== 'ack') throw new Error(`message_send: ${JSON.stringify(ack)}`);
    const ackAt = performance.now() - current.t0;
    await all;
    return { t0: current.t0, times: current.times, ackAt };
  };

  for (let i = 0; i < (opts.warmup ?? 5); i++) await send(`warm${i}`, i);
  await bench.settle();

  const endToEnd: number[] = [];
  const last: number[] = [];
  const acks: number[] = [];
  const waits: number[] = [];
  const overheads: number[] = [];
  const fanOuts: number[] = [];
  const lookups: number[] = [];
  const phase = { toSendHandler: [] as number[], sendStores: [] as number[], firstMemberPage: [] as number[], memberQuery: [] as number[], firstBatch: [] as number[], allBatches: [] as number[], lastPost: [] as number[], lastPostToArrival: [] as number[] };
  const posts = { min: Infinity, max: 0 };
  let outsidePosts = 0;
  const started = Date.now();
  let n = 0;
  for (; n < opts.messages && Date.now() - started < opts.budgetMs; n++) {
    const { t0, times, ackAt } = await send(`m${n}`, n);
    // Everyone has it, so the fan-out has posted; its calls are all in.
    const { readings, posts: made } = bench.recorder.take();
    const fan = readings.filter((r) => opts.fanOutOperations.has(r.operation));
    const fanStart = Math.min(...fan.map((r) => r.startedAt));
    // The message write is the request's last write to finish before the fan-out began.
    const stored = Math.max(...readings.filter((r) => !opts.fanOutOperations.has(r.operation) && r.endedAt <= fanStart).map((r) => r.endedAt));
    const lastAt = Math.max(...times);
    endToEnd.push(...times);
    last.push(lastAt);
    acks.push(ackAt);
    waits.push(fanStart - stored);
    overheads.push(lastAt - (fanStart - stored));
    fanOuts.push(t0 + lastAt - fanStart);
    const messagePosts = made.filter((p) => p.type === 'message_new');
    lookups.push(Math.min(...messagePosts.map((p) => p.at)) - fanStart);
    const sendCalls = readings.filter((r) => !opts.fanOutOperations.has(r.operation) && r.startedAt >= t0 && r.endedAt <= fanStart);
    const sendStart = Math.min(...sendCalls.map((r) => r.startedAt));
    const ends = (op: string) => fan.filter((r) => r.operation === op).map((r) => r.endedAt - fanStart);
    const lastPostAt = Math.max(...messagePosts.map((p) => p.at));
    phase.toSendHandler.push(sendStart - t0);
    phase.sendStores.push(stored - sendStart);
    // A fan-out that used the member ids read for an earlier message reads none: its message
    // counts in neither member phase (their `n` is the messages whose fan-out read them).
    const memberReads = ends('listMemberIds');
    if (memberReads.length > 0) {
      phase.firstMemberPage.push(Math.min(...memberReads));
      phase.memberQuery.push(Math.max(...memberReads));
    }
    const listReads = [...ends('liveIn'), ...ends('connectionsOf')];
    phase.firstBatch.push(Math.min(...listReads));
    phase.allBatches.push(Math.max(...listReads));
    phase.lastPost.push(lastPostAt - fanStart);
    phase.lastPostToArrival.push(t0 + lastAt - lastPostAt);
    posts.min = Math.min(posts.min, messagePosts.length);
    posts.max = Math.max(posts.max, messagePosts.length);
    outsidePosts += made.filter((p) => !memberConnections.has(p.connectionId)).length;
    if (opts.afterEach) {
      await opts.afterEach(sockets, n);
      // Its calls and posts are not the next message's.
      bench.recorder.take();
    }
  }

  await opts.during?.(sockets);
  const outsideFrames = outside.reduce((sum, s) => sum + s.received, 0);
  await inBatches([...sockets, ...outside], 50, (s) => s.close());
  await bench.settle();
  return {
    members: opts.members,
    messages: n,
    cutShort: n < opts.messages,
    endToEnd: distribution(endToEnd),
    lastRecipient: distribution(last),
    ack: distribution(acks),
    streamWait: distribution(waits),
    overhead: distribution(overheads),
    fanOut: distribution(fanOuts),
    lookups: distribution(lookups),
    phases: {
      toSendHandler: distribution(phase.toSendHandler),
      sendStores: distribution(phase.sendStores),
      firstMemberPage: distribution(phase.firstMemberPage),
      memberQuery: distribution(phase.memberQuery),
      firstBatch: distribution(phase.firstBatch),
      allBatches: distribution(phase.allBatches),
      lastPost: distribution(phase.lastPost),
      lastPostToArrival: distribution(phase.lastPostToArrival),
    },
    postsPerMessage: posts,
    outsideFrames,
    outsidePosts,
    samples: endToEnd,
  };
}
