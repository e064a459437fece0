/**
 * `npx tsx bench/scale.ts`: only the fan-out and connect parts of `npm run bench` (floor for rooms
 * of 100 and 1,000, one message to 10,000 connections, 200 and 2,000 connects at once), plus the
 * `@connections` emulator's own cost per post; prints JSON. For working on those parts without the
 * whole run; `npm run bench` records the figures.
 */
import os from 'node:os';
import { startBench } from './lib/harness.ts';
import { runRoom, type RoomPhases } from './lib/latency.ts';
import { floorBetween, measureEmulatorShare, runConnects, runHugeRoom } from './lib/fanout.ts';
import { FAN_OUT_LOOKUPS } from './lib/capacity.ts';
import type { Distribution } from './lib/stats.ts';

process.env.DDB_LOCAL_TELEMETRY ??= '0';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
const arg = (name: string, fallback: string) => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;
const rooms = arg('rooms', '100,1000').split(',').filter(Boolean).map(Number);
const connects = arg('connects', '200,2000').split(',').filter(Boolean).map(Number);
const huge = Number(arg('huge', '10000'));
/** `--room-messages=<n>`: timed messages per room (100 to the room of 100 and 10 to the room of 1,000 unless given). */
const roomMessages = Number(arg('room-messages', '0'));
/**
 * `--cpu-prof=<file>`: a CPU profile of this process (gateway, handlers, emulator, receivers) over the
 * room runs; `--huge-cpu-prof=<file>`: over the messages to the room of `--huge` only, which are
 * `--huge-messages` (9).
 */
const cpuProf = arg('cpu-prof', '');
const hugeCpuProf = arg('huge-cpu-prof', '');
const out: Record<string, unknown> = { loadAverageStart: os.loadavg() };
const log = (line: string) => console.error(`[scale] ${line}`);

const bench = await startBench({});
try {
  // After the start: the runtime's region and credentials are in the environment by then.
  out.emulator = await measureEmulatorShare(2000, 5);
  log(`emulator ${JSON.stringify(out.emulator)}`);
  const floors: { members: number; floor: Distribution; fanOut: Distribution; overhead: Distribution; lookups: Distribution; phases: RoomPhases; ratio: number }[] = [];
  const profiler = cpuProf ? await startProfile() : undefined;
  for (const members of rooms) {
    let floor: Distribution | undefined;
    const messages = roomMessages || (members >= 1000 ? 10 : 100);
    const between = floorBetween(bench, 20, messages);
    const run = await runRoom(bench, {
      members,
      messages,
      outsiders: 0,
      warmup: 3,
      budgetMs: 180_000,
      fanOutOperations: FAN_OUT_LOOKUPS,
      afterEach: between.afterEach,
      during: async (sockets) => void (await between.topUp(sockets), (floor = between.done())),
    });
    floors.push({ members, floor: floor!, fanOut: run.fanOut, overhead: run.overhead, lookups: run.lookups, phases: run.phases, ratio: run.fanOut.p50 / floor!.p50 });
    log(`room ${members}: ${JSON.stringify(floors.at(-1))}`);
  }
  out.floors = floors;
  if (profiler) await profiler.stop(cpuProf);
  const c = [];
  for (const n of connects) {
    c.push(await runConnects(bench, n));
    log(`connects ${n}: ${JSON.stringify(c.at(-1))}`);
  }
  out.connects = c;
  if (huge > 0) {
    let profiler: Awaited<ReturnType<typeof startProfile>> | undefined;
    const around = hugeCpuProf ? { before: async () => void (profiler = await startProfile()), after: () => profiler!.stop(hugeCpuProf) } : undefined;
    out.hugeRoom = await runHugeRoom(bench, huge, Number(arg('huge-messages', '9')), around);
    log(`huge: ${JSON.stringify(out.hugeRoom)}`);
  }
} finally {
  await bench.close();
}
out.loadAverageEnd = os.loadavg();
console.log(JSON.stringify(out, null, 2));
process.exit(0);

async function startProfile(): Promise<{ stop(file: string): Promise<void> }> {
  const { Session } = await import('node:inspector/promises');
  const { writeFile } = await import('node:fs/promises');
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.setSamplingInterval', { interval: 200 });
  await session.post('Profiler.start');
  return {
    async stop(file) {
      const { profile } = await session.post('Profiler.stop');
      await writeFile(file, JSON.stringify(profile));
      session.disconnect();
    },
  };
}
