import { gzipSync } from 'node:zlib';
import WebSocket from 'ws';
import { ApiGatewayManagementApiClient, DeleteConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { ParleyClient, memoryStorage, type ParleyClientOptions, type ParleyStorage } from '../../client/index.ts';
import { bundleClient } from '../../client/build.ts';
import { createRoom, createUsers, inBatches, type TestUser } from './clients.ts';
import { distribution, round, type Distribution } from './stats.ts';
import type { Bench } from './harness.ts';

export interface SdkFigures {
  /** parley-client.js as built: minified, and minified + gzipped (level 9). */
  minifiedBytes: number;
  gzippedBytes: number;
  /** connect() → live with every missed message delivered, from a storage that last saw the room before them. */
  catchUp: { missed: number; ms: Distribution }[];
  /** One client whose connection the server drops again and again; it reconnects each time. */
  cycles: {
    count: number;
    msPerCycle: number;
    /** Heap used after the warm-up and after the last cycle (MB), and the client's listeners and the process's active handles then. */
    heapMb: [number, number];
    listeners: [number, number];
    activeResources: [number, number];
  };
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

async function reconnectCycles(bench: Bench, user: TestUser, count: number): Promise<SdkFigures['cycles']> {
  const management = new ApiGatewayManagementApiClient({ endpoint: bench.stack.callbackUrl });
  // Reconnect at once: the cycles measure what a reconnect leaves behind, not the backoff.
  const c = client(bench, user, { backoff: { baseMs: 1, capMs: 1 } });
  let connectionId = '';
  let established = 0;
  c.on('connection_established', (f) => {
    connectionId = f.connectionId;
    established++;
  });
  await c.connect();
  while (!connectionId) await new Promise((r) => setTimeout(r, 1));
  const snapshot = (): [number, number, number] => [round(process.memoryUsage().heapUsed / 2 ** 20), c.listenerCount(), process.getActiveResourcesInfo().length];
  const gc = () => (globalThis as { gc?: () => void }).gc?.();
  const warm = Math.min(20, Math.floor(count / 5));
  let start = snapshot();
  let startedAt = performance.now();
  for (let cycle = 0; cycle < warm + count; cycle++) {
    if (cycle === warm) {
      gc();
      start = snapshot();
      startedAt = performance.now();
    }
    const before = established;
    await management.send(new DeleteConnectionCommand({ ConnectionId: connectionId }));
    const deadline = Date.now() + 10_000;
    while (!(established > before && c.state === 'live')) {
      if (Date.now() > deadline) throw new Error(`reconnect ${cycle} did not come back live (state ${c.state})`);
      await new Promise((r) => setTimeout(r, 1));
    }
  }
  const ms = (performance.now() - startedAt) / count;
  gc();
  const end = snapshot();
  await c.close();
  management.destroy();
  return { count, msPerCycle: round(ms), heapMb: [start[0], end[0]], listeners: [start[1], end[1]], activeResources: [start[2], end[2]] };
}
