import { EVENT_SOURCE, type EventPublisher, type OutboundEvent } from '#shared/ports/events.ts';

/** The envelope POSTed for each event: EventBridge's field names. */
export function envelopeOf(e: OutboundEvent) {
  return { id: e.id, source: EVENT_SOURCE, 'detail-type': e.detailType, time: e.time, detail: e.detail };
}

/**
 * Local stand-in for the bus: each event is POSTed as JSON to one URL, one after another. An
 * answer other than 2xx (or none within the timeout) throws, so the stream record is retried
 * from there: later events wait, and the order per room holds.
 */
export class WebhookPublisher implements EventPublisher {
  constructor(
    private readonly url: string,
    private readonly timeoutMs = 10_000,
  ) {}

  async publish(events: readonly OutboundEvent[]): Promise<void> {
    for (const e of events) {
      const res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'user-agent': 'parley-events' },
        body: JSON.stringify(envelopeOf(e)),
        signal: AbortSignal.timeout(this.timeoutMs),
      });
      await res.body?.cancel();
      if (res.status < 200 || res.status > 299) throw new Error(`${this.url} answered ${res.status} to event ${e.id}`);
    }
  }
}

/** Where no destination is configured (npm start without PARLEY_EVENTS_URL): events go nowhere. */
export const discardingPublisher: EventPublisher = { publish: async () => undefined };
