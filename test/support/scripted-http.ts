import http from 'node:http';
import type { AddressInfo } from 'node:net';

/** A step of a scripted server: an answer (a status and an error type), `reset` (the socket dropped) or `hang` (never answers). */
export type ScriptStep = readonly [status: number, errorType?: string] | 'reset' | 'hang';

/**
 * An HTTP server that answers each request with the next step of its script (200 once the script
 * is spent), for testing a client's retries; `answer` writes an answer step the way the service does.
 */
export async function startScriptedServer(answer: (res: http.ServerResponse, status: number, errorType?: string) => void) {
  let script: ScriptStep[] = [];
  let requests = 0;
  const server = http.createServer((req, res) => {
    requests++;
    req.resume();
    req.on('end', () => {
      const next = script.shift() ?? [200];
      if (next === 'reset') return void req.socket.destroy();
      if (next === 'hang') return;
      answer(res, next[0], next[1]);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** Replaces the script and counts requests from zero. */
    play(steps: readonly ScriptStep[]) {
      script = [...steps];
      requests = 0;
    },
    get requests() {
      return requests;
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
