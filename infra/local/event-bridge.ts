import { randomUUID } from 'node:crypto';
import type http from 'node:http';
import { json11Fault, readJson11, serveJson11, type Credential, type Json11Answer } from './sigv4.ts';

/** The bus the local runtime's functions publish to (the stack's own bus, in AWS). */
export const LOCAL_EVENT_BUS = 'parley-local';

/** PutEvents limits, as EventBridge documents them. */
export const PUT_EVENTS_LIMITS = { entries: 10, totalEntryBytes: 256 * 1024 } as const;

/** One entry of a PutEvents request, as it travels on the wire. */
export interface PutEventsEntry {
  EventBusName?: string;
  Source?: string;
  DetailType?: string;
  Detail?: string;
  Time?: number | string;
  Resources?: string[];
}

/**
 * An entry's size as EventBridge counts it: Time is 14 bytes, Source, DetailType, Detail and each
 * resource their UTF-8 bytes. The request's entries together must stay under 256 KB. Counted here
 * on its own, not with the publisher's count: this is what checks that one.
 */
export function entrySize(e: PutEventsEntry): number {
  const bytes = (s: unknown) => (typeof s === 'string' ? Buffer.byteLength(s, 'utf8') : 0);
  return (e.Time !== undefined ? 14 : 0) + bytes(e.Source) + bytes(e.DetailType) + bytes(e.Detail) + (e.Resources ?? []).reduce((n, r) => n + bytes(r), 0);
}

/** What a rule's target receives: EventBridge's event envelope. */
export interface BusEvent {
  version: '0';
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: Record<string, unknown>;
}

export interface LocalEventBridge {
  endpoint: string;
  /** The ARN of the bus it holds. */
  busArn: string;
  /** Resolves once every event accepted so far has been delivered (or there is no target). */
  delivered(): Promise<void>;
  stop(): Promise<void>;
}

export interface EventBridgeOptions {
  region: string;
  account: string;
  /** The one bus it holds; entries for any other are refused. */
  busName: string;
  credentials: readonly Credential[];
  /**
   * The target every event goes to, as a rule with an API destination would send it (undefined: a
   * bus with no rule, events are accepted and dropped). Each event is POSTed in the order it was
   * put, per room, until the target answers 2xx.
   */
  target?: string;
  /** Turns the bus's event into the body the target receives (an input transformer); default: the event itself. */
  transform?: (event: BusEvent) => unknown;
  /** Backoff between attempts of one event (default 100 ms doubling to 2 s). */
  retry?: { baseMs: number; capMs: number };
  /** How long the target may take to answer before the attempt counts as failed (default 10 s). */
  timeoutMs?: number;
  /**
   * Fails entries as EventBridge sometimes does (an `InternalFailure`, a `ThrottlingException`):
   * tests use it to show what a partial failure does. Undefined: accepted.
   */
  failEntry?: (entry: PutEventsEntry) => { ErrorCode: string; ErrorMessage: string } | undefined;
  port?: number;
  log?: (line: string) => void;
}

/**
 * The part of EventBridge the functions use: `PutEvents` on one bus, over its JSON 1.1 protocol,
 * SigV4-checked, with EventBridge's limits (10 entries, 256 KB of entries: the whole call refused)
 * and its per-entry answers (an entry with a bad Source, DetailType or Detail, or for another bus,
 * fails alone; the rest are accepted). The functions reach it with the SDK's own client
 * (`AWS_ENDPOINT_URL_EVENTBRIDGE`), so their calls pass the local IAM check like any other.
 *
 * It also stands in for a rule on that bus with an API destination as its target: each accepted
 * event is POSTed to `target`, retried with backoff until it answers 2xx. Unlike EventBridge
 * (which promises no order) events of one room are delivered in the order they were put, one at a
 * time, while other rooms go on: what the contract promises `PARLEY_EVENTS_URL`.
 */
export async function startEventBridge(opts: EventBridgeOptions): Promise<LocalEventBridge> {
  const busArn = `arn:aws:events:${opts.region}:${opts.account}:event-bus/${opts.busName}`;
  const retry = opts.retry ?? { baseMs: 100, capMs: 2_000 };
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const log = opts.log ?? ((line: string) => console.error(line));
  let stopped = false;

  // One queue per room (its order), drained by one loop per room.
  const queues = new Map<string, BusEvent[]>();
  const idle = new Set<() => void>();
  const pending = () => [...queues.values()].reduce((n, q) => n + q.length, 0);
  const settle = () => {
    if (pending() > 0) return;
    for (const resolve of idle) resolve();
    idle.clear();
  };

  const deliver = async (event: BusEvent): Promise<void> => {
    const body = JSON.stringify(opts.transform ? opts.transform(event) : event);
    for (let attempt = 0; !stopped; attempt++) {
      try {
        const res = await fetch(opts.target!, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'user-agent': 'parley-local-eventbridge' },
          body,
          signal: AbortSignal.timeout(timeoutMs),
        });
        await res.body?.cancel();
        if (res.ok) return;
        if (attempt === 0) log(`[events] ${opts.target} answered ${res.status} to event ${event.id}; retrying until it answers 2xx`);
      } catch (err) {
        if (attempt === 0) log(`[events] ${opts.target} did not answer event ${event.id} (${(err as Error).message}); retrying`);
      }
      const wait = Math.min(retry.capMs, retry.baseMs * 2 ** attempt);
      await new Promise((r) => setTimeout(r, wait).unref());
    }
  };

  const drain = async (key: string) => {
    const queue = queues.get(key)!;
    while (queue.length > 0 && !stopped) {
      await deliver(queue[0]!);
      queue.shift();
    }
    queues.delete(key);
    settle();
  };

  const enqueue = (event: BusEvent) => {
    if (!opts.target) return;
    const roomId = event.detail.roomId;
    const key = typeof roomId === 'string' ? roomId : '';
    const queue = queues.get(key);
    if (queue) return void queue.push(event);
    queues.set(key, [event]);
    void drain(key);
  };

  const entryError = (ErrorCode: string, ErrorMessage: string) => ({ ErrorCode, ErrorMessage });

  /** The per-entry answer: an event id, or why this entry alone is refused. */
  const accept = (e: PutEventsEntry): { EventId: string } | { ErrorCode: string; ErrorMessage: string } => {
    const bus = e.EventBusName || 'default';
    if (bus !== opts.busName && bus !== busArn) return entryError('NotFoundException', `Event bus ${bus} does not exist.`);
    if (typeof e.Source !== 'string' || e.Source.length === 0) return entryError('InvalidArgument', 'Parameter Source is not valid. Reason: Source is a required argument.');
    if (typeof e.DetailType !== 'string' || e.DetailType.length === 0) return entryError('InvalidArgument', 'Parameter DetailType is not valid. Reason: DetailType is a required argument.');
    let detail: unknown;
    try {
      detail = JSON.parse(typeof e.Detail === 'string' ? e.Detail : '');
    } catch {
      return entryError('MalformedDetail', 'Detail is malformed.');
    }
    if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return entryError('MalformedDetail', 'Detail is malformed.');
    const injected = opts.failEntry?.(e);
    if (injected) return injected;
    const seconds = typeof e.Time === 'number' ? e.Time : typeof e.Time === 'string' ? Date.parse(e.Time) / 1000 : Date.now() / 1000;
    const id = randomUUID();
    enqueue({
      version: '0',
      id,
      'detail-type': e.DetailType,
      source: e.Source,
      account: opts.account,
      // EventBridge keeps whole seconds.
      time: new Date(Math.floor(seconds) * 1000).toISOString().replace('.000Z', 'Z'),
      region: opts.region,
      resources: e.Resources ?? [],
      detail: detail as Record<string, unknown>,
    });
    return { EventId: id };
  };

  async function answer(req: http.IncomingMessage, body: Buffer): Promise<Json11Answer> {
    const call = await readJson11(req, body, { service: 'events', target: 'AWSEvents.PutEvents', credentials: opts.credentials });
    if ('fault' in call) return call.fault;
    const entries = call.field('Entries');
    if (!Array.isArray(entries) || entries.length < 1 || entries.length > PUT_EVENTS_LIMITS.entries) {
      const count = Array.isArray(entries) ? entries.length : 0;
      return json11Fault(400, 'ValidationException', `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length ${count < 1 ? 'greater than or equal to 1' : `less than or equal to ${PUT_EVENTS_LIMITS.entries}`}`);
    }
    if (entries.some((e) => typeof e !== 'object' || e === null)) return json11Fault(400, 'SerializationException', 'Entries must be objects.');
    const typed = entries as PutEventsEntry[];
    if (typed.reduce((n, e) => n + entrySize(e), 0) > PUT_EVENTS_LIMITS.totalEntryBytes) {
      return json11Fault(400, 'ValidationException', 'Total size of the entries in the request is over the limit.');
    }
    const results = typed.map(accept);
    return { status: 200, body: { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results } };
  }

  const server = await serveJson11(answer, opts.port);
  return {
    endpoint: server.endpoint,
    busArn,
    delivered: () => (pending() === 0 ? Promise.resolve() : new Promise<void>((resolve) => idle.add(resolve))),
    stop: () => {
      stopped = true;
      for (const resolveIdle of idle) resolveIdle();
      return server.stop();
    },
  };
}

/**
 * What `PARLEY_EVENTS_URL` receives: the contract's envelope (`id`, `source`, `detail-type`,
 * `time`, `detail`), as an input transformer on the API destination would shape it in AWS. `id` is
 * Parley's stable id (`detail.eventId`), not EventBridge's: EventBridge gives every put a new id,
 * so a change published twice (a retried stream batch) could not be recognised by it.
 */
export function contractEnvelope(event: BusEvent): { id: string; source: string; 'detail-type': string; time: string; detail: Record<string, unknown> } {
  const eventId = event.detail.eventId;
  return { id: typeof eventId === 'string' ? eventId : event.id, source: event.source, 'detail-type': event['detail-type'], time: event.time, detail: event.detail };
}
