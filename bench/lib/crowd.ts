import { fork, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** What opening sockets at once gave: each one's time to `connection_established`, and the failures. */
export interface Opened {
  ms: number[];
  failed: number;
  errors: string[];
  open: number;
}

/** A crowd of WebSocket clients in a child process (bench/lib/crowd-child.ts). */
export interface Crowd {
  /** Opens a socket per token, `concurrency` at a time; resolves when each is established or has failed. */
  open(wsUrl: string, tokens: readonly string[], concurrency: number, timeoutMs?: number): Promise<Opened>;
  /** From now on, notes when each frame containing `tag` arrives (absolute ms, `performance.timeOrigin` based). */
  arm(tag: string): Promise<void>;
  arrivals(): Promise<number[]>;
  /** Closes every socket, then the child. */
  close(): Promise<void>;
}

export async function startCrowd(): Promise<Crowd> {
  const child: ChildProcess = fork(path.join(here, 'crowd-child.ts'), [], {
    execArgv: ['--import', 'tsx', '--max-old-space-size=4096'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const waiting: ((m: any) => void)[] = [];
  child.on('message', (m) => waiting.shift()?.(m));
  const ask = <T>(command: object): Promise<T> =>
    new Promise((resolve, reject) => {
      const onExit = () => reject(new Error('the crowd process exited'));
      child.once('exit', onExit);
      waiting.push((m) => (child.off('exit', onExit), resolve(m as T)));
      if (Object.keys(command).length > 0) child.send(command);
    });
  await ask({});
  return {
    open: (wsUrl, tokens, concurrency, timeoutMs = 60_000) => ask<Opened>({ op: 'open', wsUrl, tokens, concurrency, timeoutMs }),
    arm: async (tag) => void (await ask({ op: 'arm', tag })),
    arrivals: async () => (await ask<{ times: number[] }>({ op: 'report' })).times,
    async close() {
      await ask({ op: 'close' });
      child.kill();
    },
  };
}
