import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { runBench } from '#bench/run.ts';
import { alike, type Report } from '#bench/lib/report.ts';
import type { ScaleFigures } from '#bench/lib/fanout.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
// The environment before any bench ran here: a bench's stack writes its endpoints into it.
const envAtStart = { ...process.env };
const outDir = mkdtempSync(path.join(os.tmpdir(), 'parley-bench-smoke-'));
afterAll(() => rmSync(outDir, { recursive: true, force: true }));

/**
 * `npm run bench -- --smoke` against the test run's DynamoDB Local and S3 store: every code path of
 * the benchmark with tiny counts, so it cannot rot, and the invariants that hold at any count.
 * The targets themselves are the full run's business (docs/performance.md).
 */
describe('benchmark smoke run', () => {
  let report: Report;

  it('runs every section and writes its report where it was told', { timeout: 180_000 }, async () => {
    // Its own S3 store (in-process, instant): an existing one would need its bucket made over s3rver's bucket-level signature quirk.
    report = await runBench({ smoke: true, outDir, dynamoEndpoint: inject('dynamoEndpoint') });
    expect(JSON.parse(readFileSync(path.join(outDir, 'latest.json'), 'utf8')).mode).toBe('smoke');
    expect(readFileSync(path.join(outDir, 'latest.md'), 'utf8')).toContain('## Modelled AWS bill per million messages');
    // The per-call table holds the fan-out's calls beside the request's, alike ones on one row with their count.
    const md = readFileSync(path.join(outDir, 'latest.md'), 'utf8');
    const perCall = md.slice(md.indexOf('### Per call'), md.indexOf('\n## ', md.indexOf('### Per call')));
    const rows = perCall.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| operation')).map((l) => l.split(' | ').map((c) => c.replace(/^\| |\s*\|$/g, '')));
    expect(rows.filter(([op, stage]) => op === 'send 1 KB text' && stage === 'fan-out').length).toBeGreaterThan(0);
    const wideConnect = report.operations.find((o) => o.name.startsWith('connect, a user in'))!;
    // Its presence reads each room's list while its connection is being listed there (and an earlier
    // one may still be unlisted): DynamoDB Local bills a read that found an entry apart from an empty
    // one, so alike reads may take two rows, one a way they were billed.
    const listReads = rows.filter(([op, stage, call]) => op === wideConnect.name && stage === 'fan-out' && call === 'liveIn');
    const liveIns = wideConnect.calls.filter((c) => c.stage === 'fan-out' && c.operation === 'liveIn');
    expect(listReads.map((r) => Number(r[4]))).toEqual(alike(liveIns).map((g) => g.count));
    expect(listReads.reduce((sum, r) => sum + Number(r[4]), 0)).toBe(liveIns.length);
    expect(rows.filter(([op]) => op === wideConnect.name).reduce((sum, r) => sum + Number(r[4]), 0)).toBe(wideConnect.calls.length);
    expect(readFileSync(path.join(outDir, 'latency.svg'), 'utf8')).toMatch(/^<svg[\s\S]*<polyline[\s\S]*<\/svg>\n$/);
    expect(existsSync(path.join(outDir, '..', 'latest.json'))).toBe(false);
  });

  it('prices every operation, and a 1 KB send in whole write units with its fan-out reads', () => {
    const names = report.operations.map((o) => o.name);
    expect(names).toEqual(
      expect.arrayContaining(['connect', 'disconnect', 'send 1 KB text', 'send 1 KB random base64 text', 'history page of 50', 'older history page of 50', 'list my rooms (10)']),
    );
    const send = report.operations.find((o) => o.name === 'send 1 KB text')!;
    const writes = send.request.aws.writeTable + send.request.aws.writeGsi;
    // 1 KB of prose is stored compressed: the seat and the message, a unit each.
    expect(writes).toBe(2);
    expect(send.calls.filter((c) => c.kind === 'write').map((c) => [c.operation, c.aws.writeTable])).toEqual(expect.arrayContaining([['insertMessage', 1]]));
    expect(send.fanOut.aws.readTable + send.fanOut.aws.readGsi).toBeGreaterThan(0);
    // Text that hardly compresses costs whole units too, never fewer than prose.
    const random = report.operations.find((o) => o.name === 'send 1 KB random base64 text')!;
    const randomWrites = random.request.aws.writeTable + random.request.aws.writeGsi;
    expect(Number.isInteger(randomWrites)).toBe(true);
    expect(randomWrites).toBeGreaterThanOrEqual(writes);
    for (const op of report.operations.filter((o) => o.implemented)) expect(op.calls.length, op.name).toBeGreaterThan(0);
  });

  it("lists a wide user's connection in each of their rooms and takes it off each, and times their greeting", () => {
    const { rooms, established, establishedOneRoom } = report.wideConnect;
    const connect = report.operations.find((o) => o.name === `connect, a user in ${rooms} rooms`)!;
    const disconnect = report.operations.find((o) => o.name === `disconnect, a user in ${rooms} rooms`)!;
    // One entry a room, written by the fan-out before the greeting, and deleted after the close.
    const entries = (op: typeof connect, operation: string) => op.calls.filter((c) => c.stage === 'fan-out' && c.operation === operation).reduce((sum, c) => sum + c.aws.writeTable, 0);
    expect(entries(connect, 'listLive')).toBe(rooms);
    expect(entries(disconnect, 'unlistLive')).toBe(rooms);
    // Its presence changes tell no one (nobody else is online in its rooms): a first page of each
    // room's list is all they read there, not the rooms nor their member ids.
    for (const op of [connect, disconnect]) {
      const fanOut = op.calls.filter((c) => c.stage === 'fan-out');
      expect(fanOut.filter((c) => c.operation === 'liveIn').length, op.name).toBe(rooms);
      expect(fanOut.filter((c) => c.operation === 'getRoomsWithMember' || c.operation === 'listMemberIds'), op.name).toEqual([]);
    }
    expect([established.n, establishedOneRoom.n]).toEqual([2, 2]);
    expect(established.p50).toBeGreaterThan(0);
  });

  it('reads back how the 1 KB texts are stored, and times their compression', () => {
    const { messageStorage: st } = report;
    expect(st.texts.map((t) => [t.text, t.bytes])).toEqual([
      ['prose', 1024],
      ['random base64', 1024],
    ]);
    const [prose, random] = st.texts as [(typeof st.texts)[0], (typeof st.texts)[0]];
    expect(prose).toMatchObject({ attribute: 'contentZ', writeUnits: 1 });
    expect(prose.storedBytes).toBeLessThan(1024 * 0.6);
    expect(prose.itemBytes).toBeLessThanOrEqual(1024);
    // Random base64 loses about a fifth: smaller than as sent, larger than prose.
    expect(random.storedBytes).toBeGreaterThan(prose.storedBytes);
    expect(random.storedBytes).toBeLessThan(1024);
    for (const t of st.texts) {
      expect(t.compressUs, t.text).toBeGreaterThan(0);
      expect(t.decompressUs, t.text).toBeGreaterThan(0);
    }
    expect(st.rounds).toBe(2);
  });

  it('prices the notification path: nobody notified writes nothing, a mention writes its state', () => {
    const { plain, mention } = report.notifications;
    expect(plain.notified).toBe(0);
    expect(plain.aws.readTable + plain.aws.readGsi).toBeGreaterThan(0);
    expect(plain.aws.writeTable + plain.aws.writeGsi).toBe(0);
    expect(mention.notified).toBe(1);
    // Put on the bus through the SDK: the message's own event, and one per notification.
    expect(plain.events).toBe(1);
    expect(mention.events).toBe(2);
    expect(mention.aws.writeTable).toBeGreaterThanOrEqual(1);
    expect(mention.aws.readTable + mention.aws.readGsi).toBeGreaterThan(plain.aws.readTable + plain.aws.readGsi);
    expect(report.bill.lines.map((l) => l.item)).toEqual(expect.arrayContaining(['EventBridge events', 'Notifications: DynamoDB reads', 'Notifications: Lambda duration']));
    // Nobody's level admits a plain message: no presence, no state, and no preference item read
    // (the member items carry them), nor the room (the message carries its type): its members
    // alone, whatever the room's size.
    expect(plain.byOperation.map((o) => [o.operation, o.calls]).sort()).toEqual([['listMemberLevels', 1]]);
    const { plainLargeRoom, runs } = report.notifications;
    expect(plainLargeRoom).toMatchObject({ members: 100, notified: 0, events: 1 });
    // Each row's time is the median of its own messages: a mention's are as many as the reference room's offline members, at most.
    const offline = report.bill.workload.roomMembers - report.bill.workload.online;
    expect([plain.runs, mention.runs, plainLargeRoom.runs]).toEqual([runs, Math.min(runs, offline), runs]);
    expect(plainLargeRoom.byOperation.map((o) => [o.operation, o.calls]).sort()).toEqual([['listMemberLevels', 1]]);
    // The room is read once someone is to be notified (the push's title).
    expect(mention.byOperation.find((o) => o.operation === 'getRoom')?.calls).toBe(1);
    // A Query priced by the member items' size: far below the unit a member its preferences cost when read apiece.
    expect(plainLargeRoom.aws.readTable + plainLargeRoom.aws.readGsi).toBeLessThan(0.1 * plainLargeRoom.members);
    expect(mention.byOperation.find((o) => o.operation === 'notificationStates')?.calls).toBe(1);
    // The read marks (seats) of those left, last: the one mentioned.
    expect(mention.byOperation.find((o) => o.operation === 'getSeats')?.calls).toBe(1);
  });

  it('runs the notification section alone (npm run bench -- --notifications), printing its calls', { timeout: 120_000 }, async () => {
    // In a process of its own, as npm runs it: a bench starts its services once per process.
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--notifications', '--smoke'], { cwd: root, env: { ...envAtStart, AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoEndpoint') }, timeout: 110_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout),
      );
    });
    const lines = out.split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^plain, default preferences: [\d.]+ RCU 0 WCU, [\d.]+ ms median of \d+, 0 notified, 1 events put$/));
    expect(lines).toContainEqual(expect.stringMatching(/^mentioning one offline member: [\d.]+ RCU 1 WCU, .*, 1 notified, 2 events put$/));
    expect(lines).toContainEqual(expect.stringMatching(/^ {2}listMemberLevels +1 calls/));
    expect(lines).toContainEqual(expect.stringMatching(/^plain, default preferences, room of 100: [\d.]+ RCU 0 WCU, .*, 0 notified, 1 events put$/));
  });

  it('runs the capacity section alone (npm run bench -- --capacity), printing each operation and how the 1 KB texts are stored', { timeout: 120_000 }, async () => {
    const out = await new Promise<string>((resolve, reject) => {
      execFile(process.execPath, ['--import', 'tsx', 'bench/run.ts', '--capacity', '--smoke'], { cwd: root, env: { ...envAtStart, AWS_ENDPOINT_URL_DYNAMODB: inject('dynamoEndpoint') }, timeout: 110_000 }, (err, stdout, stderr) =>
        err ? reject(new Error(`${err.message}\n${stdout}\n${stderr}`)) : resolve(stdout),
      );
    });
    const lines = out.split('\n');
    expect(lines).toContainEqual(expect.stringMatching(/^send 1 KB text +request [\d.]+ RCU \+ 2 WCU/));
    expect(lines).toContainEqual(expect.stringMatching(/^send 1 KB random base64 text +request [\d.]+ RCU \+ \d+ WCU/));
    expect(lines).toContainEqual(expect.stringMatching(/^stored prose +1024 bytes as contentZ of \d+ bytes: item \d+ bytes, 1 WCU; store [\d.]+ µs, read [\d.]+ µs/));
    expect(lines).toContainEqual(expect.stringMatching(/^stored random base64 +1024 bytes as content(Z)? of \d+ bytes/));
  });

  it('finds DynamoDB Local charging a Query on its items\' summed size, as AWS does (the room list relies on it)', () => {
    const pair = report.probe.find((p) => p.check.startsWith('Query of two 1.5 KB items'));
    expect(pair).toMatchObject({ local: '0.5 table / 0 GSI1', same: true });
  });

  it('reads the same for a fan-out whatever is connected outside the room', () => {
    const { reference, crowded } = report.fanOut;
    expect(reference.perEvent.length + reference.perMember.length).toBeGreaterThan(0);
    expect(reference.total.aws.readTable + reference.total.aws.readGsi).toBeGreaterThan(0);
    // As AWS charges: DynamoDB Local bills found items only, so its own figure moves with who has a presence item.
    expect(crowded.total.aws).toEqual(reference.total.aws);
  });

  it('posts once per recipient connection and never outside the room', () => {
    for (const run of [...report.latency, report.bigRoom]) {
      expect(run.messages).toBeGreaterThan(0);
      expect(run.postsPerMessage).toEqual({ min: run.members, max: run.members });
      expect(run.outsidePosts + run.outsideFrames).toBe(0);
      expect(run.endToEnd.p50).toBeGreaterThan(0);
    }
    expect(report.operations.find((o) => o.name === 'send 1 KB text')!.posts).toBe(3);
    expect(report.operations.every((o) => o.postsOutside === 0)).toBe(true);
    expect(report.fanOut.outsideFrames).toBe(0);
  });

  it('builds bundles and loads them cold in a fresh node', () => {
    expect(report.bundles.map((b) => b.fn)).toEqual(['hello-world', 'hello-dynamodb', 'http-health', 'stream-fanout', 's3-thumbnail']);
    for (const b of report.bundles) {
      expect(b.minifiedBytes).toBeGreaterThan(b.gzippedBytes);
      expect(b.processMs).toBeGreaterThan(0);
      // Only the thumbnail function ships a file beside its bundle: the WebP decoder.
      expect(b.besideBytes > 0, b.fn).toBe(b.fn === 's3-thumbnail');
      // What it carries, from esbuild's metafile: largest first, never more than the bundle.
      expect(b.contributors.length, b.fn).toBeGreaterThan(0);
      expect(b.contributors.map((c) => c.bytes)).toEqual([...b.contributors.map((c) => c.bytes)].sort((x, y) => y - x));
      expect(b.contributors.reduce((sum, c) => sum + c.bytes, 0)).toBeLessThanOrEqual(b.minifiedBytes);
    }
    const by = new Map(report.bundles.map((b) => [b.fn, b]));
    // Only the thumbnail function carries image decoders; the fan-out loads the DynamoDB client with it, hello world nothing.
    expect(by.get('s3-thumbnail')!.contributors.map((c) => c.name)).toContain('jpeg-js');
    expect(by.get('stream-fanout')!.contributors.map((c) => c.name)).not.toContain('jpeg-js');
    // The functions' own DynamoDB client loads its marshaller (its signer is in the bundle), never the SDK's DynamoDB client or signer.
    expect(by.get('stream-fanout')!.externalAtLoad).toEqual(['@aws-sdk/util-dynamodb']);
    expect(by.get('hello-world')!.externalAtLoad).toEqual([]);
    expect(by.get('hello-dynamodb')!.externalAtLoad).toEqual(['@aws-sdk/util-dynamodb']);
    for (const b of report.bundles) expect([...b.externalAtLoad, ...b.externalOnFirstUse], b.fn).not.toEqual(expect.arrayContaining([expect.stringMatching(/^@aws-sdk\/(client|lib)-dynamodb$/)]));
    // Above the floor: the handlers that load the table client with them, and only they.
    expect(by.get('stream-fanout')!.aboveFloorMs).toBeTypeOf('number');
    expect(by.get('http-health')!.aboveFloorMs).toBeUndefined();
    expect(by.get('hello-dynamodb')!.aboveFloorMs).toBeUndefined();
    // Source maps ship without the sources' text: a map is the size of its bundle's mappings, not of every input file.
    for (const b of report.bundles) expect(b.sourceMapBytes, b.fn).toBeLessThan(3 * b.minifiedBytes);
    // The S3 SDK loads with the first file, never with a bundle.
    for (const b of report.bundles) expect(b.externalAtLoad, b.fn).not.toContain('@aws-sdk/client-s3');
    expect(report.targets.map((t) => t.name)).toEqual(expect.arrayContaining(['Each bundle minified', 'Every bundle minified', 'Every message handler cold load, over a hello world']));
  });

  it('times a thumbnail of every image type the function decodes', () => {
    expect(report.thumbnails.map((t) => t.format)).toEqual(['JPEG (q 85)', 'PNG', 'GIF', 'WebP lossy (q 75)', 'WebP lossless']);
    for (const t of report.thumbnails) {
      expect(t.decodeMs, t.format).toBeGreaterThan(0);
      // 400 × 300 fits 320 px as 320 × 240: a real JPEG, not an empty buffer.
      expect(t.thumbnailBytes, t.format).toBeGreaterThan(1000);
    }
  });

  it('models the bill line by line from the measured units', () => {
    expect(report.bill.lines.length).toBeGreaterThan(5);
    expect(report.bill.totalPerMillion).toBeCloseTo(report.bill.lines.reduce((s, l) => s + l.usdPerMillion, 0));
    expect(report.targets.length).toBeGreaterThanOrEqual(18);
    expect(report.targets.every((t) => typeof t.met === 'boolean')).toBe(true);
    expect(report.targets.map((t) => t.name)).toEqual(expect.arrayContaining(['GET /rooms for 10 rooms', 'DynamoDB + Lambda share of the modelled bill per million messages']));
  });

  it('sends a burst into one room and reads back every seq once, with what the conflicts cost', () => {
    expect(report.sendBurst).toMatchObject({ senders: 2, perSender: 5, stored: 10, statuses: { 201: 10 }, gapless: true });
    // The seat and the message (1 KB of prose, compressed: one unit), and any refused puts.
    expect(report.sendBurst.writeUnitsPerMessage).toBeGreaterThanOrEqual(2);
  });

  it('measures the fan-out against its floor, a room split across workers, and connects at once', () => {
    const r = report as Report & ScaleFigures;
    expect(r.fanOutFloor.map((f) => f.members)).toEqual([10, 30]);
    for (const f of r.fanOutFloor) {
      expect(f.floor.n).toBe(2);
      expect(f.floor.p50).toBeGreaterThan(0);
      expect(f.ratio).toBeCloseTo(f.fanOut.p50 / f.floor.p50);
    }
    // Chunks of 5: the room of 12 took three worker invocations, and every connection got each message once.
    expect(r.hugeRoom).toMatchObject({ members: 12, delivered: 12, chunkSize: 5, workers: 3, posts: 12 });
    expect(r.hugeRoom.lastRecipient.n).toBe(1);
    // The emulator's own cost is measured apart from the posts': both timings are real.
    expect(r.emulator.posts).toBe(50);
    expect(r.emulator.bareUs).toBeGreaterThan(0);
    expect(r.emulator.emulatorUs).toBeGreaterThan(0);
    expect(r.emulator.asFanOutUs).toBeGreaterThan(0);
    expect(r.connects.map((c) => [c.sockets, c.failed, c.established.n])).toEqual([
      [5, 0, 5],
      [10, 0, 10],
    ]);
    const names = r.targets.map((t) => t.name);
    expect(names).toEqual(expect.arrayContaining(['One message to 12 connections: the last one has it', '5 concurrent connects: connection_established', '10 concurrent connects hold']));
  });

  it('measures the client SDK: size, catch-up of missed messages, reconnect cycles without leaks', () => {
    const { sdk } = report;
    expect(sdk.gzippedBytes).toBeGreaterThan(1000);
    expect(sdk.gzippedBytes).toBeLessThan(sdk.minifiedBytes);
    expect(sdk.catchUp.map((c) => c.missed)).toEqual([20]);
    expect(sdk.catchUp[0]!.ms.n).toBe(2);
    expect(sdk.catchUp[0]!.ms.p50).toBeGreaterThan(0);
    expect(sdk.cycles.count).toBe(10);
    expect(sdk.cycles.listeners[1]).toBe(sdk.cycles.listeners[0]);
  });
});
