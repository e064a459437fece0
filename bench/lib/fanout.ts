import os from 'node:os';
import { createManagementClient } from '#functions/lib/management-client.ts';
import { ConnectionsApi } from '#shared/adapters/apigw/connections-api.ts';
import { FIRST_LIVE_PAGE } from '#shared/adapters/dynamodb/connection-store.ts';
import { configFromEnv } from '#functions/lib/config.ts';
import { getDeps } from '#functions/lib/deps.ts';
import { POST_CONCURRENCY } from '#shared/domain/deliver.ts';
import { runAs } from '#infra/local/iam.ts';
import { streamFn } from '#infra/routes.ts';
import type { MemberRecord, RoomRecord } from '#shared/model.ts';
import { api } from '#test/support/clients.ts';
import { createUsers, textOf, type BenchSocket } from './clients.ts';
import { FAN_OUT_LOOKUPS, MESSAGE_BYTES } from './capacity.ts';
import { cpuSnapshot, cpuSpent, type CpuSnapshot, type CpuSpent } from './cpu.ts';
import { startCrowd, type Crowd } from './crowd.ts';
import { waitUntil, type Bench } from './harness.ts';
import { distribution, type Distribution } from './stats.ts';

/**
 * The fan-out's floor for a room's connections: the same number of PostToConnection calls, with
 * the same client settings (createManagementClient) and as many in flight (POST_CONCURRENCY), of
 * one 1 KB frame built beforehand, and no lookups: first post → last recipient has it. Posted as
 * the stream fan-out function (runAs), so that each post passes the local runtime's IAM check as
 * the fan-out's own posts do: a cost of the local runtime, not of the fan-out (its share is
 * measured apart: EmulatorShare.iamUs).
 *
 * Taken between a room's timed messages: `runs` floor runs spread evenly over its
 * `messages` (afterEach, after each counted message; topUp, after the last, takes any the room's
 * time budget left out), so that the floor and the fan-out it is compared with are timed under the
 * same load, run after run, rather than minutes apart.
 */
export function floorBetween(bench: Bench, runs: number, messages: number) {
  const client = createManagementClient(bench.stack.callbackUrl);
  const times: number[] = [];
  let run = 0;
  let warm = false;
  /** One run: each socket's own frame handler is kept and put back. First post → last recipient has it. */
  const once = async (sockets: readonly BenchSocket[]): Promise<number> => {
    const tag = `floor${run++}`;
    const body = ConnectionsApi.body(JSON.stringify({ type: 'message_new', message: { content: textOf(tag, MESSAGE_BYTES) } }));
    const handlers = sockets.map((s) => s.onFrame);
    let got = 0;
    let last = 0;
    try {
      const all = new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`floor: ${got} of ${sockets.length} in 10 s`)), 10_000);
        for (const s of sockets) {
          s.onFrame = (f, at) => {
            if (f.type !== 'message_new' || !String(f.message?.content).startsWith(`${tag} `)) return;
            last = Math.max(last, at);
            if (++got === sockets.length) (clearTimeout(timer), resolve());
          };
        }
      });
      const t0 = performance.now();
      let next = 0;
      await runAs(streamFn, () =>
        Promise.all(
          Array.from({ length: Math.min(POST_CONCURRENCY, sockets.length) }, async () => {
            while (next < sockets.length) await client.post(sockets[next++]!.connectionId, body);
          }),
        ),
      );
      await all;
      return last - t0;
    } finally {
      sockets.forEach((s, i) => (s.onFrame = handlers[i]!));
    }
  };
  const take = async (sockets: readonly BenchSocket[]) => {
    // The first run warms the client's sockets, as the fan-out's are warm.
    if (!warm) (await once(sockets), (warm = true));
    times.push(await once(sockets));
  };
  return {
    afterEach: async (sockets: readonly BenchSocket[], n: number) => {
      while (times.length < Math.min(runs, Math.round(((n + 1) * runs) / messages))) await take(sockets);
    },
    topUp: async (sockets: readonly BenchSocket[]) => {
      while (times.length < runs) await take(sockets);
    },
    done: (): Distribution => (client.destroy(), distribution(times)),
  };
}

export interface ConnectRun {
  /** Sockets opened at once (each a different user). */
  sockets: number;
  /** Upgrade request → `connection_established`, per socket. */
  established: Distribution;
  failed: number;
  errors: string[];
}

/** `sockets` clients connecting at once (from a process of their own), each timed to `connection_established`. */
export async function runConnects(bench: Bench, sockets: number): Promise<ConnectRun> {
  const users = await createUsers(bench.stack.httpUrl, `conn${sockets}`, sockets);
  await bench.settle();
  const openBefore = bench.stack.openConnections();
  const crowd = await startCrowd();
  try {
    const opened = await crowd.open(bench.stack.wsUrl, users.map((u) => u.token), sockets);
    return { sockets, established: distribution(opened.ms), failed: opened.failed, errors: opened.errors };
  } finally {
    await closeCrowd(bench, crowd, openBefore);
  }
}

/**
 * Closes the crowd's sockets and waits until the runtime has closed them too, run each one's
 * `$disconnect` and handed on the stream records those wrote: the next part starts on a quiet
 * runtime (the `$disconnect`s of 10,000 sockets take the runtime many seconds).
 */
async function closeCrowd(bench: Bench, crowd: Crowd, openBefore: number): Promise<void> {
  await crowd.close();
  await waitUntil("the crowd's sockets closed at the gateway", () => bench.stack.openConnections() <= openBefore, 300_000);
  await bench.stack.disconnectsDone();
  await bench.settle();
}

export interface HugeRoomRun {
  members: number;
  /** Connections that received the message (each member has one). */
  delivered: number;
  /** Connections per worker invocation, and how many invocations one message makes (beside the fan-out's own share). */
  chunkSize: number;
  workers: number;
  /** POST message → each recipient has it; and the last one, per message. */
  endToEnd: Distribution;
  lastRecipient: Distribution;
  /** Stored → fan-out's first DynamoDB call (the stream poll), per message. */
  streamWait: Distribution;
  /** Fan-out's first DynamoDB call → the last recipient has it, per message. */
  fanOut: Distribution;
  /** Each message in the order sent, ms: send → last has it, and its stream wait (where the readings show it). */
  perMessage: { last: number; streamWait?: number }[];
  /** PostToConnection calls per message (one per connection). */
  posts: number;
  /** CPU seconds per message over the timed messages, by where they went (Linux only: none elsewhere). */
  cpuPerMessage?: CpuSpent;
}

/**
 * A room of `members` (stored directly in the table: rooms made over the API hold 1,000 at most),
 * every member connected from a crowd process; `messages` messages posted one at a time.
 */
export async function runHugeRoom(bench: Bench, members: number, messages: number, around?: { before(): Promise<void>; after(): Promise<void> }): Promise<HugeRoomRun> {
  const users = await createUsers(bench.stack.httpUrl, `huge${members}`, members);
  const now = new Date().toISOString();
  const roomId = `huge-${users[0]!.userId}`;
  const room: RoomRecord = { roomId, type: 'group', name: `bench ${members}`, visibility: 'private', maxMembers: members, createdBy: users[0]!.userId, createdAt: now, memberCount: members, lastSeq: 0, lastActivityAt: now };
  const records: MemberRecord[] = users.map((u, i) => ({ roomId, userId: u.userId, displayName: u.displayName, role: i === 0 ? 'admin' : 'member', joinedAt: now, lastReadSeq: 0 }));
  await getDeps().rooms.createRoom(room, records);
  await bench.settle();
  const openBefore = bench.stack.openConnections();
  const crowd = await startCrowd();
  try {
    const opened = await crowd.open(bench.stack.wsUrl, users.map((u) => u.token), 200, 120_000);
    if (opened.failed > 0) throw new Error(`huge room: ${opened.failed} of ${members} sockets failed (${opened.errors.join('; ')})`);
    await bench.settle();
    bench.recorder.take();
    await around?.before();
    const endToEnd: number[] = [];
    const fanOuts: number[] = [];
    const perMessage: HugeRoomRun['perMessage'] = [];
    let delivered = members;
    let posts = 0;
    let cpuBefore: CpuSnapshot | undefined;
    for (let n = -1; n < messages; n++) {
      if (n === 0) cpuBefore = cpuSnapshot();
      const tag = `huge${n < 0 ? 'warm' : n}`;
      await crowd.arm(tag);
      const t0 = performance.timeOrigin + performance.now();
      const res = await api(bench.stack.httpUrl, 'POST', `/rooms/${roomId}/messages`, { token: users[(n + 1) % members]!.token, body: { content: textOf(tag, MESSAGE_BYTES) } });
      if (res.status !== 201) throw new Error(`huge room send: ${res.status} ${JSON.stringify(res.body)}`);
      await bench.stack.streamDrained();
      const times = await crowd.arrivals();
      const { readings, posts: made } = bench.recorder.take();
      if (n < 0) continue;
      delivered = Math.min(delivered, times.length);
      posts = made.filter((p) => p.type === 'message_new').length;
      endToEnd.push(...times.map((t) => t - t0));
      const lastAt = Math.max(...times);
      // The fan-out's first call: its member ids, or the room's live list when it used the ids
      // read for an earlier message.
      const fanStart = Math.min(...readings.filter((r) => FAN_OUT_LOOKUPS.has(r.operation)).map((r) => r.startedAt));
      const stored = Math.max(...readings.filter((r) => !FAN_OUT_LOOKUPS.has(r.operation) && r.endedAt <= fanStart).map((r) => r.endedAt));
      if (Number.isFinite(fanStart)) fanOuts.push(lastAt - (performance.timeOrigin + fanStart));
      perMessage.push({ last: lastAt - t0, ...(Number.isFinite(fanStart) && Number.isFinite(stored) && { streamWait: fanStart - stored }) });
    }
    const cpuAfter = cpuSnapshot();
    await around?.after();
    const chunkSize = configFromEnv().fanoutWorkers?.chunkSize ?? members;
    return {
      members,
      delivered,
      chunkSize,
      workers: workerCount(members, chunkSize),
      endToEnd: distribution(endToEnd),
      lastRecipient: distribution(perMessage.map((m) => m.last)),
      streamWait: distribution(perMessage.flatMap((m) => (m.streamWait === undefined ? [] : [m.streamWait]))),
      fanOut: distribution(fanOuts),
      perMessage,
      posts,
      ...(cpuBefore && cpuAfter && { cpuPerMessage: perMessageOf(cpuSpent(cpuBefore, cpuAfter), messages) }),
    };
  } finally {
    await closeCrowd(bench, crowd, openBefore);
  }
}

function perMessageOf(spent: CpuSpent, messages: number): CpuSpent {
  const each = (s: number) => Math.round((s / messages) * 1000) / 1000;
  const children: Record<string, number> = Object.create(null);
  for (const [name, s] of Object.entries(spent.children)) if (each(s) > 0) children[name] = each(s);
  return { mainThread: each(spent.mainThread), otherThreads: each(spent.otherThreads), children };
}

/**
 * Worker invocations for a room of `members` members with one connection each: the fan-out posts
 * the first page of the room's live list (FIRST_LIVE_PAGE) itself when it fits one share, and hands
 * the rest to workers, a share as soon as it is full. (It also posts itself any page that lands
 * while its share still fits; in a room of many shares, such as the room of 10,000, each later
 * page is larger than what is left of it.)
 */
export function workerCount(members: number, chunkSize: number): number {
  if (members <= chunkSize) return 0;
  const first = Math.min(members, FIRST_LIVE_PAGE);
  const own = first <= chunkSize ? first : 0;
  return Math.ceil((members - own) / chunkSize);
}

/** A room's fan-out against its floor (floorBetween), with the same connections open. */
export interface FloorRun {
  members: number;
  floor: Distribution;
  /** The fan-out's own time in the same room (RoomRun.fanOut), and its p50 over the floor's p50. */
  fanOut: Distribution;
  ratio: number;
}

/** What this file adds to latest.json. */
export interface ScaleFigures {
  fanOutFloor: FloorRun[];
  connects: ConnectRun[];
  hugeRoom: HugeRoomRun;
  /** The local `@connections` emulator's own cost, apart from the posts' (µs a post, p50). */
  emulator: EmulatorShare;
}

export interface EmulatorShare {
  posts: number;
  /** The same client posting to a bare HTTP server that answers 200. */
  bareUs: number;
  /** The same posts to the emulator (SigV4 check, routing; the connection's send answers at once). */
  emulatorUs: number;
  /**
   * The same posts to the emulator made as the stream fan-out function: each one also passes the
   * local runtime's IAM check of the caller's grants first (in AWS, API Gateway's own work).
   */
  asFanOutUs: number;
}

interface ScaleTarget {
  name: string;
  target: string;
  value: string;
  met: boolean;
}

const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;

/** The targets for fan-out against its floor, rooms of 10,000 and connects under load. */
export function scaleTargets(r: ScaleFigures): ScaleTarget[] {
  const floors = r.fanOutFloor.map((f) => ({
    name: `Fan-out time over its floor (same posts, no lookups), room of ${f.members}`,
    target: '≤ 1.25 × floor (rooms of 100 and 1,000)',
    value: `${f.ratio.toFixed(2)} × (${f.fanOut.p50.toFixed(1)} ms over ${f.floor.p50.toFixed(1)} ms p50)`,
    met: f.ratio <= 1.25,
  }));
  const [few, many] = [r.connects[0], r.connects.at(-1)];
  const h = r.hugeRoom;
  return [
    ...floors,
    {
      name: `One message to ${h.members} connections: the last one has it`,
      target: '≤ 1.5 s (10,000)',
      value: `${s(h.lastRecipient.p50)} p50, ${s(h.lastRecipient.max)} max over ${h.lastRecipient.n}; its own share and ${h.workers} workers of ${h.chunkSize}; ${h.delivered} of ${h.members} delivered`,
      met: h.lastRecipient.p50 <= 1500 && h.delivered === h.members,
    },
    ...(few
      ? [
          {
            name: `${few.sockets} concurrent connects: connection_established`,
            target: '≤ 1 s p50 (200)',
            value: `${s(few.established.p50)} p50, ${s(few.established.max)} max, ${few.failed} failed`,
            met: few.established.p50 <= 1000 && few.failed === 0,
          },
        ]
      : []),
    ...(many && many !== few
      ? [
          {
            name: `${many.sockets} concurrent connects hold`,
            target: 'all established (2,000)',
            value: `${many.sockets - many.failed} of ${many.sockets} in ${s(many.established.max)} (p50 ${s(many.established.p50)})`,
            met: many.failed === 0,
          },
        ]
      : []),
  ];
}

const fmt = (d: Distribution) => `${d.p50.toFixed(1)} / ${d.p95.toFixed(1)} / ${d.max.toFixed(1)}`;

/** The Markdown section of these figures. */
export function scaleMarkdown(r: ScaleFigures): string {
  const h = r.hugeRoom;
  return [
    '## Fan-out against its floor, a room of many, connects at once',
    '',
    '| measured | p50 / p95 / max ms |',
    '|---|---|',
    ...r.fanOutFloor.flatMap((f) => [
      `| room of ${f.members}: floor (same PostToConnection calls and client, no lookups) | ${fmt(f.floor)} |`,
      `| room of ${f.members}: fan-out (first DynamoDB call → last recipient), ${f.ratio.toFixed(2)} × floor | ${fmt(f.fanOut)} |`,
    ]),
    `| ${h.members} connections (its own share and ${h.workers} workers of ${h.chunkSize}): send → last recipient | ${fmt(h.lastRecipient)} |`,
    `| ${h.members} connections: send → each recipient | ${fmt(h.endToEnd)} |`,
    `| ${h.members} connections: fan-out's first DynamoDB call → last recipient | ${fmt(h.fanOut)} |`,
    `| ${h.members} connections: send → last recipient, each message in turn (its stream wait) | ${h.perMessage.map((m) => `${m.last.toFixed(0)}${m.streamWait === undefined ? '' : ` (${m.streamWait.toFixed(0)})`}`).join(', ')} |`,
    ...r.connects.map((c) => `| ${c.sockets} connects at once → connection_established (${c.failed} failed) | ${fmt(c.established)} |`),
    '',
    ...(h.cpuPerMessage
      ? [
          `CPU per message to the ${h.members} connections, seconds (this machine has ${os.availableParallelism()} cores): ` +
            `the runtime's main thread (gateways, \`@connections\` emulator, the fan-out) ${h.cpuPerMessage.mainThread}, ` +
            `its other threads (the fan-out's workers, V8's garbage collector) ${h.cpuPerMessage.otherThreads}, ` +
            Object.entries(h.cpuPerMessage.children)
              .map(([name, seconds]) => `${name === 'java' ? 'DynamoDB Local' : name === 'node' ? 'the crowd of sockets' : name} ${seconds}`)
              .join(', ') +
            '.',
          '',
        ]
      : []),
    `The local \`@connections\` emulator's own cost, ${r.emulator.posts} posts through the same client: ` +
      `${r.emulator.emulatorUs.toFixed(1)} µs a post against ${r.emulator.bareUs.toFixed(1)} µs to a bare HTTP server (p50), ` +
      `${(r.emulator.emulatorUs - r.emulator.bareUs).toFixed(1)} µs of it the emulator's; ` +
      `${r.emulator.asFanOutUs.toFixed(1)} µs posted as the fan-out function, through the local IAM check (the floor's and the fan-out's posts both pass it).`,
    '',
  ].join('\n');
}

/**
 * What the local `@connections` emulator itself costs per post: the same client, as many in
 * flight, posting to the emulator (SigV4 check, routing; the connection's send answers at once) and
 * to a bare HTTP server that answers 200; µs per post of each, median of `rounds`.
 */
export async function measureEmulatorShare(posts: number, rounds: number): Promise<EmulatorShare> {
  const http = await import('node:http');
  const { createManagementApi } = await import('#infra/local/ws-management-api.ts');
  const credentials = [{ accessKeyId: process.env.AWS_ACCESS_KEY_ID ?? 'local', secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY ?? 'local' }];
  const emulator = createManagementApi({
    stage: 'local',
    credentials,
    find: () => ({ connectedAt: 0, lastActiveAt: 0, identity: { sourceIp: '', userAgent: '' }, send: async () => undefined, close: () => undefined }),
  });
  const serve = (handler: (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => void) =>
    new Promise<import('node:http').Server>((resolve) => {
      const server = http.createServer(handler);
      server.listen(0, '127.0.0.1', () => resolve(server));
    });
  const bare = await serve((req, res) => {
    req.resume();
    req.on('end', () => res.end());
  });
  const emu = await serve((req, res) => void emulator(req, res));
  const body = ConnectionsApi.body(textOf('emu', MESSAGE_BYTES));
  const clients = [bare, emu, emu].map((server) => createManagementClient(`http://127.0.0.1:${(server.address() as { port: number }).port}`));
  /** One round of `posts` posts through one client: µs a post. */
  const round = async (client: (typeof clients)[number], as?: string) => {
    let next = 0;
    const t0 = performance.now();
    const all = () =>
      Promise.all(
        Array.from({ length: POST_CONCURRENCY }, async () => {
          while (next++ < posts) await client.post('abcdEFGH1234=', body);
        }),
      );
    await (as ? runAs(as, all) : all());
    return ((performance.now() - t0) / posts) * 1000;
  };
  try {
    // The three take turns round by round (the first round of each warms it), so that whatever
    // else the process is still doing after the room runs weighs on all three alike.
    const us: [number[], number[], number[]] = [[], [], []];
    for (let r = 0; r < rounds + 1; r++) {
      const times = [await round(clients[0]!), await round(clients[1]!), await round(clients[2]!, streamFn)];
      if (r > 0) times.forEach((t, i) => us[i]!.push(t));
    }
    const [bareUs, emulatorUs, asFanOutUs] = us.map((u) => distribution(u).p50) as [number, number, number];
    return { posts, bareUs, emulatorUs, asFanOutUs };
  } finally {
    for (const c of clients) c.destroy();
    bare.close();
    emu.close();
  }
}
