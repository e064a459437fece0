import { PutEventsCommand, type EventBridgeClient, type PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { EVENT_SOURCE, type EventPublisher, type OutboundEvent } from '#shared/ports/events.ts';

/** PutEvents takes at most 10 entries per call. */
const CHUNK = 10;

/**
 * Outbound events onto an EventBridge bus. EventBridge gives every put its own envelope `id`, so
 * Parley's stable id travels in `detail.eventId` (what consumers deduplicate by). Entries are
 * put in order; any entry refused fails the call, and the stream record is retried.
 */
export class EventBridgePublisher implements EventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(events: readonly OutboundEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += CHUNK) {
      const entries: PutEventsRequestEntry[] = events.slice(i, i + CHUNK).map((e) => ({
        EventBusName: this.busName,
        Source: EVENT_SOURCE,
        DetailType: e.detailType,
        Time: new Date(e.time),
        Detail: JSON.stringify({ ...e.detail, eventId: e.id }),
      }));
      const out = await this.client.send(new PutEventsCommand({ Entries: entries }));
      if (out.FailedEntryCount) {
        const failed = (out.Entries ?? []).filter((e) => e.ErrorCode).map((e) => `${e.ErrorCode}: ${e.ErrorMessage}`);
        throw new Error(`EventBridge refused ${out.FailedEntryCount} event(s): ${failed.join('; ')}`);
      }
    }
  }
}
