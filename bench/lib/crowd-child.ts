/**
 * The far end of many WebSockets, in a process of its own (bench/lib/crowd.ts starts it): the
 * sockets' file descriptors and the clients' CPU stay out of the process that runs the gateway
 * and the handlers, as they would be on other machines. Times are absolute
 * (`performance.timeOrigin + performance.now()`), comparable with the parent's.
 */
import WebSocket from 'ws';

type Command =
  | { op: 'open'; wsUrl: string; tokens: string[]; concurrency: number; timeoutMs: number }
  | { op: 'arm'; tag: string }
  | { op: 'report' }
  | { op: 'close' };

const now = () => performance.timeOrigin + performance.now();
const sockets: WebSocket[] = [];
let tag = '';
let arrivals: number[] = [];

const reply = (message: object) => process.send!(message);

function openOne(wsUrl: string, token: string, timeoutMs: number): Promise<{ ms: number } | { error: string }> {
  const started = now();
  return new Promise((resolve) => {
    const url = new URL(wsUrl);
    url.searchParams.set('token', token);
    const ws = new WebSocket(url);
    const timer = setTimeout(() => resolve({ error: 'no connection_established in time' }), timeoutMs);
    ws.on('error', (err) => {
      clearTimeout(timer);
      resolve({ error: err.message });
    });
    ws.on('message', (data) => {
      const text = data.toString();
      // Only the frames the bench looks for are parsed: a crowd of thousands must not be the bottleneck.
      if (text.startsWith('{"type":"connection_established"')) {
        clearTimeout(timer);
        sockets.push(ws);
        resolve({ ms: now() - started });
      } else if (tag && text.includes(tag)) {
        arrivals.push(now());
      }
    });
  });
}

process.on('message', (command: Command) => {
  void (async () => {
    switch (command.op) {
      case 'open': {
        const results: ({ ms: number } | { error: string })[] = new Array(command.tokens.length);
        let next = 0;
        await Promise.all(
          Array.from({ length: Math.min(command.concurrency, command.tokens.length) }, async () => {
            while (next < command.tokens.length) {
              const i = next++;
              results[i] = await openOne(command.wsUrl, command.tokens[i]!, command.timeoutMs);
            }
          }),
        );
        const ms = results.flatMap((r) => ('ms' in r ? [r.ms] : []));
        const errors = results.flatMap((r) => ('error' in r ? [r.error] : []));
        return reply({ op: 'opened', ms, errors: errors.slice(0, 5), failed: errors.length, open: sockets.length });
      }
      case 'arm':
        tag = command.tag;
        arrivals = [];
        return reply({ op: 'armed' });
      case 'report':
        return reply({ op: 'arrivals', times: arrivals });
      case 'close':
        await Promise.all(
          sockets.splice(0).map(
            (ws) =>
              new Promise<void>((resolve) => {
                if (ws.readyState === WebSocket.CLOSED) return resolve();
                ws.once('close', () => resolve());
                ws.close();
                setTimeout(() => (ws.terminate(), resolve()), 5_000).unref();
              }),
          ),
        );
        return reply({ op: 'closed' });
    }
  })();
});
reply({ op: 'ready' });
