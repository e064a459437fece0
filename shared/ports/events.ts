/** The detail-types of outbound events (source `parley`). */
export const DETAIL_TYPES = [
  'message.created',
  'message.edited',
  'message.deleted',
  'reaction.added',
  'reaction.removed',
  'member.joined',
  'member.left',
  'room.created',
  'room.updated',
  'room.archived',
  'notification.requested',
] as const;
export type DetailType = (typeof DETAIL_TYPES)[number];

export const EVENT_SOURCE = 'parley';

/**
 * One event for the host platform. `id` is stable: the same stored change (or the same
 * notification) always yields the same id, so a retried batch re-sends ids already seen.
 */
export interface OutboundEvent {
  id: string;
  detailType: DetailType;
  /** ISO time of the change. */
  time: string;
  detail: { roomId: string } & Record<string, unknown>;
}

/** Where outbound events go: an EventBridge bus in AWS, an HTTP endpoint locally. */
export interface EventPublisher {
  /** Sends the events in order; throws if any was not accepted (the caller retries them). */
  publish(events: readonly OutboundEvent[]): Promise<void>;
}
