import { fork } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import WebSocket from 'ws';
import { ParleyClient, memoryStorage, type ParleyClientOptions, type ParleyStorage } from '../../client/index.ts';
import { bundleClient } from '../../client/build.ts';
import { createRoom, createUsers, inBatches, type TestUser } from './clients.ts';
import { distribution, round, type Distribution } from './stats.ts';
import type { Bench } from './harness.ts';
import type { CyclesCommand, CyclesReport } from './sdk-cycles-child.ts';

const here = path.dirname(fileURLToPath(import.meta.url));

export interface SdkFigures {
  /** parley-client.js as built: minified, and minified + gzipped (level 9). */
  minifiedBytes: number;
  gzippedBytes: number;
  /** connect() → live with every missed message delivered, from a storage that last saw the room before them. */
  catchUp: { missed: number; ms: Distribution }[];
  /**
   * One client whose connection the server drops again and again; it reconnects each time. In a
   * process of its own: heap used after a full collection after the warm-up and after the last
   * cycle (MB), the client's listeners and that process's active handles then.
   */
  cycles: CyclesReport;
}

const ws = WebSocket as unknown as ParleyClientOptions['WebSocket'];

/** The SDK's own figures: its size, catch-up after missed messages, and leaks over reconnect cycles. */
export async function measureSdk(bench: Bench, plan: { missed: readonly number[]; catchUpRuns: number; cycles: number }): Promise<SdkFigures> {
  const { code } = await bundleClient();
  const { httpUrl } = bench.stack;
  const catchUp: SdkFigures['catchUp'] = [];
  for (const missed of plan.missed) catchUp.push({ missed, ms: distribution(await timeCatchUp(bench, missed, plan.catchUpRuns)) });

  const [user] = await createUsers(httpUrl, 'sdk-cycle', 1);
  const cycles = await reconnectCycles(bench, user!, plan.cycles);
  return { minifiedBytes: code.length, gzippedBytes: gzipSync(code, { level: 9 }).length, catchUp, cycles };
}

function client(bench: Bench, user: TestUser, opts: Partial<ParleyClientOptions> = {}): ParleyClient {
  return new ParleyClient({ httpUrl: bench.stack.httpUrl, wsUrl: bench.stack.wsUrl, getToken: () => user.token, WebSocket: ws, ...opts });
}

async function copyOf(storage: ParleyStorage): Promise<ParleyStorage> {
  const copy = memoryStorage();
  for (const k of await storage.keys()) await copy.set(k, await storage.get(k));
  return copy;
}

async function timeCatchUp(bench: Bench, missed: number, runs: number): Promise<number[]> {
  const [sender, reader] = await createUsers(bench.stack.httpUrl, `sdk-catchup-${missed}`, 2);
  const roomId = await createRoom(bench.stack.httpUrl, sender!, [reader!]);
  // The reader's device meets the room, then goes away.
  const saved = memoryStorage();
  const first = client(bench, reader!, { storage: saved });
  await first.connect();
  await first.close();
  await inBatches(
    Array.from({ length: missed }, (_, i) => i),
    10,
    async (i) => {
      const res = await fetch(new URL(`rooms/${roomId}/messages`, bench.stack.httpUrl), {
        method: 'POST',
        headers: { authorization: `Bearer ${sender!.token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ content: `missed ${i}` }),
      });
      if (res.status !== 201) throw new Error(`seeding: ${res.status} ${await res.text()}`);
    },
  );
  await bench.settle();
  const times: number[] = [];
  for (let run = 0; run < runs; run++) {
    const c = client(bench, reader!, { storage: await copyOf(saved) });
    let got = 0;
    c.on('message', (m) => void (m.roomId === roomId && got++));
    const started = performance.now();
    await c.connect();
    times.push(round(performance.now() - started));
    await c.close();
    if (got !== missed) throw new Error(`catch-up of ${missed} delivered ${got}`);
  }
  return times;
}

/** The reconnect cycles, in a process of their own (bench/lib/sdk-cycles-child.ts) so that its heap is the SDK's. */
async function reconnectCycles(bench: Bench, user: TestUser, count: number): Promise<SdkFigures['cycles']> {
  const child = fork(path.join(here, 'sdk-cycles-child.ts'), [], {
    execArgv: ['--import', 'tsx', '--expose-gc'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const answer = new Promise<{ report?: CyclesReport; error?: string }>((resolve, reject) => {
    child.once('message', (m) => resolve(m as { report?: CyclesReport; error?: string }));
    child.once('exit', (code) => reject(new Error(`the SDK cycles process exited (${code})`)));
  });
  const command: CyclesCommand = { httpUrl: bench.stack.httpUrl, wsUrl: bench.stack.wsUrl, callbackUrl: bench.stack.callbackUrl, token: user.token, count };
  child.send(command);
  const { report, error } = await answer;
  if (!report) throw new Error(`SDK reconnect cycles: ${error}`);
  return report;
}
