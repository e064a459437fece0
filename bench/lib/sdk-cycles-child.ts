/**
 * One SDK client in a process of its own (bench/lib/sdk.ts forks it, with `--expose-gc`), whose
 * connection the server drops again and again: the heap it reports, after a forced collection, is
 * the SDK's and its WebSocket's, not the local stack's that the bench process also runs.
 */
import WebSocket from 'ws';
import { ApiGatewayManagementApiClient, DeleteConnectionCommand } from '@aws-sdk/client-apigatewaymanagementapi';
import { ParleyClient, type ParleyClientOptions } from '../../client/index.ts';

export interface CyclesCommand {
  httpUrl: string;
  wsUrl: string;
  callbackUrl: string;
  token: string;
  count: number;
}

export interface CyclesReport {
  count: number;
  msPerCycle: number;
  heapMb: [number, number];
  /** Heap used after a full collection half-way through the cycles: a leak grows it again by the end. */
  heapMidMb: number;
  listeners: [number, number];
  activeResources: [number, number];
}

const round = (x: number) => Math.round(x * 10) / 10;
const collect = () => {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with --expose-gc: the heap is compared after a full collection');
  gc();
};

async function run({ httpUrl, wsUrl, callbackUrl, token, count }: CyclesCommand): Promise<CyclesReport> {
  const management = new ApiGatewayManagementApiClient({ endpoint: callbackUrl });
  // Reconnect at once: the cycles measure what a reconnect leaves behind, not the backoff.
  const c = new ParleyClient({ httpUrl, wsUrl, getToken: () => token, WebSocket: WebSocket as unknown as ParleyClientOptions['WebSocket'], backoff: { baseMs: 1, capMs: 1 } });
  let connectionId = '';
  let established = 0;
  c.on('connection_established', (f) => {
    connectionId = f.connectionId;
    established++;
  });
  await c.connect();
  while (!connectionId) await new Promise((r) => setTimeout(r, 1));
  const snapshot = (): [number, number, number] => [round(process.memoryUsage().heapUsed / 2 ** 20), c.listenerCount(), process.getActiveResourcesInfo().length];
  const warm = Math.min(20, Math.floor(count / 5));
  let start = snapshot();
  let mid = start;
  let startedAt = performance.now();
  for (let cycle = 0; cycle < warm + count; cycle++) {
    if (cycle === warm) {
      collect();
      start = snapshot();
      startedAt = performance.now();
    }
    if (cycle === warm + Math.floor(count / 2)) {
      collect();
      mid = snapshot();
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
  collect();
  const end = snapshot();
  await c.close();
  management.destroy();
  // The close handshake finishes before the process exits, so the gateway sees a clean close.
  await new Promise((r) => setTimeout(r, 200));
  return { count, msPerCycle: round(ms), heapMb: [start[0], end[0]], heapMidMb: mid[0], listeners: [start[1], end[1]], activeResources: [start[2], end[2]] };
}

process.once('message', (command: CyclesCommand) => {
  run(command).then(
    (report) => process.send!({ report }, () => process.exit(0)),
    (err: unknown) => process.send!({ error: String((err as Error)?.stack ?? err) }, () => process.exit(1)),
  );
});
