import type { OperationCost, FanOutCost } from './capacity.ts';
import type { RoomRun } from './latency.ts';
import type { BundleFigures } from './bundles.ts';
import type { ThumbnailFigures } from './thumbnails.ts';
import type { BillLine, WORKLOAD } from './bill.ts';
import type { NotificationCost } from './notifications.ts';
import type { ProbeResult } from './probe.ts';
import type { SdkFigures } from './sdk.ts';
import type { SendBurst } from './concurrency.ts';
import type { WideConnect } from './wide-user.ts';
import type { MessageStorage } from './storage.ts';
import { addUnits, reads, writes, type Call, type Units } from './meter.ts';
import type { Distribution } from './stats.ts';

export interface Target {
  name: string;
  target: string;
  value: string;
  met: boolean;
}

export interface Report {
  mode: 'full' | 'smoke';
  startedAt: string;
  machine: {
    cpus: number;
    cpuModel: string;
    memoryGb: number;
    node: string;
    platform: string;
    loadAverage: number[];
    /** The options DynamoDB Local's JVM ran with, where the bench started it (none for a DynamoDB it was given an endpoint of). */
    dynamoDbLocalJvm?: string[];
  };
  streamPollMs: number;
  messageBytes: number;
  probe: ProbeResult[];
  operations: OperationCost[];
  /** How the 1 KB message is stored (compressed or not), its item's size, and the CPU compression takes. */
  messageStorage: MessageStorage;
  fanOut: { reference: FanOutCost; crowded: FanOutCost; outsideConnections: number; outsideFrames: number };
  durations: { sendMs: number; fanOutMs: number; n: number };
  /** The events consumer's notification path in the reference room. */
  notifications: NotificationCost;
  latency: RoomRun[];
  bigRoom: RoomRun;
  bundles: BundleFigures[];
  thumbnails: ThumbnailFigures[];
  bill: { lines: BillLine[]; totalPerMillion: number; workload: typeof WORKLOAD };
  sdk: SdkFigures;
  /** Concurrent sends into one room: seqs and what the conflicts cost. */
  sendBurst: SendBurst;
  /** Connects of a user in many rooms against one in a single room: the greeting waits for the live lists' entries. */
  wideConnect: WideConnect;
  targets: Target[];
}

const n = (x: number, digits = 1) => (Number.isInteger(x) ? String(x) : x.toFixed(digits));
const table = (head: string[], rows: (string | number)[][]) =>
  [`| ${head.join(' | ')} |`, `|${head.map(() => '---').join('|')}|`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
/**
 * An operation's calls, those alike (stage, store call, API, units and note) taken together in the
 * order of their first: a wide user's connect makes a hundred alike reads of live lists.
 */
export function alike<C extends Call & { stage: string }>(calls: readonly C[]): { call: C; count: number; aws: Units; local: Units }[] {
  const groups = new Map<string, { call: C; count: number; aws: Units; local: Units }>();
  for (const c of calls) {
    const key = JSON.stringify([c.stage, c.operation, c.command, c.aws, c.local, c.awsNote ?? '']);
    const g = groups.get(key);
    if (g) groups.set(key, { ...g, count: g.count + 1, aws: addUnits(g.aws, c.aws), local: addUnits(g.local, c.local) });
    else groups.set(key, { call: c, count: 1, aws: c.aws, local: c.local });
  }
  return [...groups.values()];
}

/** `reads (table + GSI)`, the way every capacity cell reads. */
const r = (u: Units) => (reads(u) === 0 ? '0' : `${n(reads(u), 2)} (${n(u.readTable, 2)} + ${n(u.readGsi, 2)})`);
const w = (u: Units) => (writes(u) === 0 ? '0' : `${n(writes(u), 2)} (${n(u.writeTable, 2)} + ${n(u.writeGsi, 2)})`);
const ms = (d: Distribution) => [n(d.p50), n(d.p95), n(d.p99)];
/** `p50 / p95 / max` of a distribution, divided by `per` (1000: ms as s). */
const spread = (d: Distribution, per = 1) => [d.p50, d.p95, d.max].map((x) => n(x / per)).join(' / ');

export function renderMarkdown(rep: Report): string {
  const out: string[] = [];
  const push = (...lines: string[]) => out.push(...lines, '');
  push(
    `# Parley benchmark — ${rep.mode} run, ${rep.startedAt}`,
    `Machine: ${rep.machine.cpus} × ${rep.machine.cpuModel}, ${rep.machine.memoryGb} GB, Node ${rep.machine.node}, ${rep.machine.platform}; ` +
      `load average ${rep.machine.loadAverage.join(' at start, ')} at end. ` +
      (rep.machine.dynamoDbLocalJvm ? `DynamoDB Local's JVM: \`${rep.machine.dynamoDbLocalJvm.join(' ')}\`. ` : '') +
      `Local stream poll interval: **${rep.streamPollMs} ms**. Messages are ${rep.messageBytes} bytes of text. How to read this: docs/performance.md.`,
  );

  push('## Targets', table(['target', 'goal', 'measured', ''], rep.targets.map((t) => [t.name, t.target, t.value, t.met ? 'met' : '**short**'])));

  push(
    '## DynamoDB capacity per operation',
    'Units as AWS charges them; a cell reads `total (table + GSI1)`. Request: the handler. Fan-out: the stream handler delivering the change. ' +
      `Reference room: ${rep.bill.workload.roomMembers} members, ${rep.bill.workload.online} online. Where DynamoDB Local reports another figure, both are in the per-call table below.`,
    table(
      ['operation', 'request reads', 'request writes', 'fan-out reads', 'fan-out writes', 'PostToConnection'],
      rep.operations.map((o) =>
        o.implemented ? [o.name, r(o.request.aws), w(o.request.aws), r(o.fanOut.aws), w(o.fanOut.aws), o.posts] : [o.name, 'not implemented yet', '', '', '', ''],
      ),
    ),
  );
  const st = rep.messageStorage;
  push(
    '### How a 1 KB message is stored',
    `Text of ${st.compressFromBytes} bytes or more is stored Brotli-compressed (\`contentZ\`) where that saves an eighth of it; shorter text as sent (\`content\`). ` +
      `Items read back from the table; CPU per call in the bench's process, medians of ${st.rounds} rounds of ${st.calls} calls.`,
    table(
      ['text', 'bytes', 'stored as', 'stored bytes', 'item bytes', 'put WCU', 'store µs', 'read µs'],
      st.texts.map((t) => [t.text, t.bytes, `\`${t.attribute}\``, t.storedBytes, t.itemBytes, t.writeUnits, n(t.compressUs), n(t.decompressUs)]),
    ),
  );
  push(
    '### Per call',
    'Every call of each operation, the request\'s and the fan-out\'s; alike calls of one store call in a stage (the same API, units and note) are one row, with their count and their units in all.',
    table(
      ['operation', 'stage', 'store call', 'API', 'calls', 'AWS units', 'DynamoDB Local said'],
      rep.operations.flatMap((o) =>
        alike(o.calls).map(({ call: c, count, aws, local }) => [o.name, c.stage, c.operation, c.command, String(count), c.kind === 'read' ? `${r(aws)} R` : `${w(aws)} W`, c.awsNote ? `${c.kind === 'read' ? r(local) : w(local)} (${c.awsNote})` : 'same']),
      ),
    ),
  );
  const burst = rep.sendBurst;
  push(
    '## Concurrent sends into one room',
    `${burst.senders} users × ${burst.perSender} sends of 1 KB, all at once over HTTP. A send's message put takes the next free seq and is refused ` +
      'when another send took it first (a refused put still costs its units), then tries a later seq.',
    table(
      ['stored', 'statuses', 'seqs', 'refused puts', 'WCU (a message)', 'RCU (a message)', 'seconds', 'answered p50 / p95 / max, s'],
      [
        [
          burst.stored,
          Object.entries(burst.statuses).map(([k, v]) => `${k}: ${v}`).join(', '),
          burst.gapless ? `1..${burst.stored}, each once` : 'NOT gapless',
          burst.refusedPuts,
          `${n(burst.writeUnits)} (${n(burst.writeUnitsPerMessage, 2)})`,
          `${n(burst.readUnits)} (${n(burst.readUnitsPerMessage, 2)})`,
          n(burst.seconds),
          spread(burst.answeredMs, 1000),
        ],
      ],
    ),
  );
  const wc = rep.wideConnect;
  push(
    `## Connects of a user in ${wc.rooms} rooms`,
    `A connect is greeted once the connection is listed in every room of its user; a disconnect takes it off them. One connect at a time, alternating with a user in one room; ` +
      `units in the operations table (\`connect, a user in ${wc.rooms} rooms\`).`,
    table(
      ['user', 'connects', 'connection_established p50 / p95 / max, ms'],
      [
        [`in ${wc.rooms} rooms`, wc.established.n, spread(wc.established)],
        ['in 1 room', wc.establishedOneRoom.n, spread(wc.establishedOneRoom)],
      ],
    ),
  );
  const f = rep.fanOut;
  push(
    '## Fan-out per event and per recipient',
    `Per stored message, in the reference room (${f.reference.members} members looked up, 3 connected).`,
    table(
      ['', 'store call', 'reads (table + GSI1)', 'writes'],
      [
        ...f.reference.perEvent.map((o) => ['per event', o.operation, r(o.aws), w(o.aws)]),
        ...f.reference.perMember.map((o) => ['per member', o.operation, r(o.aws), w(o.aws)]),
        ['total', '', r(f.reference.total.aws), w(f.reference.total.aws)],
        ['total, the member ids kept from the room\'s earlier message (same member version)', '', r(f.reference.membersKnown.aws), w(f.reference.membersKnown.aws)],
        [`total, ${f.outsideConnections} connections outside the room`, '', r(f.crowded.total.aws), w(f.crowded.total.aws)],
      ],
    ),
  );

  push(
    '## End-to-end latency on this machine',
    `\`message_send\` → \`message_new\` at every recipient, ms. One message at a time; every member connected. ` +
      `Stream wait: message stored → fan-out starts (the local poller reads every ${rep.streamPollMs} ms when idle; AWS: ≈ 213 ms p50, 552 ms p99). ` +
      'Own overhead: the last recipient\'s latency without the stream wait.',
    table(
      ['room', 'messages', 'e2e p50', 'p95', 'p99', 'last recipient p50', 'p99', 'ack p50', 'stream wait p50', 'p99', 'own overhead p50', 'p95', 'p99', 'of which lookups p50', 'posts per message', 'outside'],
      rep.latency.map((x) => [
        x.members,
        `${x.messages}${x.cutShort ? ' (time budget)' : ''}`,
        ...ms(x.endToEnd),
        n(x.lastRecipient.p50),
        n(x.lastRecipient.p99),
        n(x.ack.p50),
        n(x.streamWait.p50),
        n(x.streamWait.p99),
        ...ms(x.overhead),
        n(x.lookups.p50),
        x.postsPerMessage.min === x.postsPerMessage.max ? x.postsPerMessage.min : `${x.postsPerMessage.min}–${x.postsPerMessage.max}`,
        x.outsidePosts + x.outsideFrames,
      ]),
    ),
    '![latency distribution](latency.svg)',
  );

  const b = rep.bigRoom;
  push(
    `## One message to ${b.members} connections`,
    table(
      ['messages', 'send → last has it p50', 'max', 'stream wait p50', 'fan-out start → last has it p50', 'of which lookups p50', 'PostToConnection per message'],
      [[b.messages, n(b.lastRecipient.p50), n(b.lastRecipient.max), n(b.streamWait.p50), n(b.fanOut.p50), n(b.lookups.p50), b.postsPerMessage.max]],
    ),
  );

  const hello = rep.bundles.find((x) => x.fn === 'hello-world');
  push(
    '## Lambda bundles',
    `Built with the CDK stack's options (CommonJS, minified, source maps, AWS SDK external). Cold load: a fresh \`node\` loading the bundle as Lambda's runtime does (\`require\`, the functions' NODE_OPTIONS), spawn to exit, median of ${hello?.runs ?? 0}; ratio to the hello-world bundle loaded the same way. ` +
      '`hello-dynamodb`: hello world with the DynamoDB clients, the floor of a table-backed handler; a handler that loads them is also shown above that floor. Beside: files shipped next to the bundle (the WebP decoder, loaded on the first WebP). ' +
      'Largest parts: from esbuild\'s metafile, by npm package or folder.',
    table(
      ['function', 'minified KB', 'gzipped KB', 'beside KB', 'cold load ms', 'of which import ms', '× hello world', 'ms above hello-dynamodb', 'largest parts KB'],
      rep.bundles.map((x) => [
        x.fn,
        n(x.minifiedBytes / 1024),
        n(x.gzippedBytes / 1024),
        x.besideBytes ? n(x.besideBytes / 1024) : '',
        n(x.processMs),
        n(x.importMs),
        n(x.ratio, 2),
        x.aboveFloorMs === undefined ? '' : n(x.aboveFloorMs),
        (x.contributors ?? []).slice(0, 4).map((c) => `${c.name} ${n(c.bytes / 1024)}`).join(', '),
      ]),
    ),
  );

  const sdk = rep.sdk;
  push(
    '## Client SDK',
    `parley-client.js: ${n(sdk.minifiedBytes / 1024)} KB minified, **${n(sdk.gzippedBytes / 1024)} KB** minified and gzipped (socket.io-client 11.5 KB, Ably 28 KB). ` +
      'Catch-up: a device that last saw the room before the messages were sent connects; timed from `connect()` until it resolves (live, every missed message delivered in order).',
    table(
      ['missed messages', 'runs', 'p50 ms', 'p95 ms', 'max ms'],
      sdk.catchUp.map((c) => [c.missed, c.ms.n, n(c.ms.p50), n(c.ms.p95), n(c.ms.max)]),
    ),
    `Reconnect cycles: the server drops one client's connection ${sdk.cycles.count} times (\`DELETE @connections\`); it reconnects and catches up each time, ${n(sdk.cycles.msPerCycle)} ms a cycle. ` +
      `The client runs in a process of its own; after the warm-up → half-way → after the last cycle, each after a full collection: heap ${sdk.cycles.heapMb[0]} → ${sdk.cycles.heapMidMb} → ${sdk.cycles.heapMb[1]} MB; listeners ${sdk.cycles.listeners.join(' → ')}, active handles ${sdk.cycles.activeResources.join(' → ')}.`,
  );

  const t = rep.thumbnails[0];
  push(
    '## Thumbnails',
    `What the thumbnail function spends on one ${t ? `${t.width} × ${t.height}` : ''} image (a photo stand-in: gradients with grain), per source format, median of ${t?.runs ?? 0}; ` +
      'on this machine, in one process. Storage round trips are not included. Sources over the upload limit (10 MB by default) cannot be attached.',
    table(
      ['source', 'source KB', 'decode ms', 'shrink + JPEG ms', 'total ms', 'thumbnail KB'],
      rep.thumbnails.map((x) => [x.format, n(x.sourceBytes / 1024, 0), n(x.decodeMs, 0), n(x.thumbnailMs, 0), n(x.decodeMs + x.thumbnailMs, 0), n(x.thumbnailBytes / 1024)]),
    ),
  );

  const nc = rep.notifications;
  push(
    '## Notifications',
    "The events consumer's work for one message in the reference room (its outbound event, then who is notified), called as the handler would, its events put on the runtime's EventBridge through the SDK; the time is the median over the row's messages (a mention names a different offline member each time, so its row has one message per offline member).",
    table(
      ['message', 'notified', 'events put', 'read units', 'write units', 'ms', 'messages'],
      [
        ['plain, default preferences', String(nc.plain.notified), String(nc.plain.events), n(nc.plain.aws.readTable + nc.plain.aws.readGsi), n(nc.plain.aws.writeTable + nc.plain.aws.writeGsi), n(nc.plain.ms, 1), String(nc.plain.runs)],
        ['mentioning one offline member', String(nc.mention.notified), String(nc.mention.events), n(nc.mention.aws.readTable + nc.mention.aws.readGsi), n(nc.mention.aws.writeTable + nc.mention.aws.writeGsi), n(nc.mention.ms, 1), String(nc.mention.runs)],
        ...(nc.plainLargeRoom
          ? [[`plain, default preferences, room of ${nc.plainLargeRoom.members}`, String(nc.plainLargeRoom.notified), String(nc.plainLargeRoom.events), n(nc.plainLargeRoom.aws.readTable + nc.plainLargeRoom.aws.readGsi), n(nc.plainLargeRoom.aws.writeTable + nc.plainLargeRoom.aws.writeGsi), n(nc.plainLargeRoom.ms, 1), String(nc.plainLargeRoom.runs)]]
          : []),
      ],
    ),
  );

  push(
    '## Modelled AWS bill per million messages',
    `Reference workload: rooms of ${rep.bill.workload.roomMembers} members, ${rep.bill.workload.online} online, ${rep.bill.workload.messageBytes}-byte messages; us-east-1 prices.`,
    table(
      ['line', 'per message', 'unit', 'basis', '$ per million messages'],
      [...rep.bill.lines.map((l) => [l.item, n(l.perMessage, 4), l.unit, l.basis, n(l.usdPerMillion, 2)]), ['**total**', '', '', '', `**${n(rep.bill.totalPerMillion, 2)}**`]],
    ),
  );

  push(
    '## DynamoDB Local against AWS',
    table(
      ['call', 'DynamoDB Local reports', 'AWS charges', ''],
      rep.probe.map((p) => [p.check, p.local, p.aws, p.same ? 'same' : '**differs**: the bench prices the AWS figure']),
    ),
  );
  return out.join('\n');
}
