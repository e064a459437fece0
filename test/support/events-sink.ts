import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One event as the local runtime POSTs it. */
export interface Envelope {
  id: string;
  source: string;
  'detail-type': string;
  time: string;
  detail: Record<string, any> & { roomId: string };
}

/**
 * A real HTTP endpoint for `PARLEY_EVENTS_URL`: records every POST it answered 2xx (in arrival
 * order, repeats included), and can refuse or stall on demand.
 */
export interface EventsSink {
  url: string;
  /** Every envelope accepted, in order, repeats included. */
  received: Envelope[];
  /** Every POST that arrived, accepted or not. */
  attempts: number;
  /** Decides the answer to each POST (default 200); may wait first. */
  respond: (e: Envelope) => number | Promise<number>;
  /** Accepted envelopes with repeats dropped by id (what a consumer keeps). */
  unique(): Envelope[];
  close(): Promise<void>;
}

const read = async (req: IncomingMessage) => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

export async function startEventsSink(): Promise<EventsSink> {
  const sink: EventsSink = {
    url: '',
    received: [],
    attempts: 0,
    respond: () => 200,
    unique() {
      const seen = new Set<string>();
      return sink.received.filter((e) => !seen.has(e.id) && seen.add(e.id));
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
  const server = createServer((req, res) => {
    void (async () => {
      const envelope = JSON.parse(await read(req)) as Envelope;
      sink.attempts++;
      const status = await sink.respond(envelope);
      if (status >= 200 && status < 300) sink.received.push(envelope);
      res.writeHead(status).end();
    })();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  sink.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`;
  return sink;
}
