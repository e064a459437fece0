import type { EventBridgeClient, PutEventsRequestEntry } from '@aws-sdk/client-eventbridge';
import { EVENT_SOURCE, type EventPublisher, type OutboundEvent } from '#shared/ports/events.ts';

/** PutEvents takes at most 10 entries, of at most 256 KB together (EventBridge's own count: `entryBytes`). */
const MAX_ENTRIES = 10;
const MAX_BYTES = 256 * 1024;

/** An entry's size as EventBridge counts it: Time 14 bytes; Source, DetailType and Detail their UTF-8 bytes. */
export function entryBytes(e: Pick<PutEventsRequestEntry, 'Source' | 'DetailType' | 'Detail' | 'Time'>): number {
  const bytes = (s: string | undefined) => (s ? Buffer.byteLength(s, 'utf8') : 0);
  return (e.Time ? 14 : 0) + bytes(e.Source) + bytes(e.DetailType) + bytes(e.Detail);
}

/** Consecutive runs of entries that each fit one PutEvents call, in order. */
export function putEventsChunks(entries: readonly PutEventsRequestEntry[]): PutEventsRequestEntry[][] {
  const chunks: PutEventsRequestEntry[][] = [];
  let current: PutEventsRequestEntry[] = [];
  let size = 0;
  for (const entry of entries) {
    const n = entryBytes(entry);
    if (n > MAX_BYTES) throw new Error(`An event of ${n} bytes is over EventBridge's 256 KB: ${entry.DetailType}`);
    if (current.length === MAX_ENTRIES || size + n > MAX_BYTES) {
      chunks.push(current);
      current = [];
      size = 0;
    }
    current.push(entry);
    size += n;
  }
  if (current.length > 0) chunks.push(current);
  return chunks;
}

/**
 * Outbound events onto an EventBridge bus. EventBridge gives every put its own envelope `id`, so
 * Parley's stable id travels in `detail.eventId` (what consumers deduplicate by). Calls are made
 * one after another in order; an entry refused fails the publish, and the stream record is retried
 * (entries accepted before it are put again: consumers drop them by `detail.eventId`).
 *
 * The client is made on first use (the SDK module loads then): the functions that build the
 * notification ports without publishing (preferences, subscriptions) never load it.
 */
export class EventBridgePublisher implements EventPublisher {
  private client?: Promise<{ client: EventBridgeClient; PutEventsCommand: typeof import('@aws-sdk/client-eventbridge').PutEventsCommand }>;

  constructor(private readonly busName: string) {}

  private sdk() {
    this.client ??= import('@aws-sdk/client-eventbridge').then(({ EventBridgeClient, PutEventsCommand }) => ({ client: new EventBridgeClient({}), PutEventsCommand }));
    return this.client;
  }

  async publish(events: readonly OutboundEvent[]): Promise<void> {
    if (events.length === 0) return;
    const { client, PutEventsCommand } = await this.sdk();
    const entries: PutEventsRequestEntry[] = events.map((e) => ({
      EventBusName: this.busName,
      Source: EVENT_SOURCE,
      DetailType: e.detailType,
      Time: new Date(e.time),
      Detail: JSON.stringify({ ...e.detail, eventId: e.id }),
    }));
    for (const chunk of putEventsChunks(entries)) {
      const out = await client.send(new PutEventsCommand({ Entries: chunk }));
      if (out.FailedEntryCount) {
        const failed = (out.Entries ?? []).filter((e) => e.ErrorCode).map((e) => `${e.ErrorCode}: ${e.ErrorMessage}`);
        throw new Error(`EventBridge refused ${out.FailedEntryCount} event(s): ${failed.join('; ')}`);
      }
    }
  }
}
