import type { Units } from './meter.ts';
import { reads, writes } from './meter.ts';

/**
 * Published prices, us-east-1 (Lambda: aws.amazon.com/lambda/pricing, Arm).
 * DynamoDB Streams reads by a Lambda trigger are free (DynamoDB pricing, "DynamoDB Streams").
 */
export const PRICES = {
  dynamoWriteUnit: 0.625 / 1e6,
  dynamoReadUnit: 0.125 / 1e6,
  lambdaRequest: 0.2 / 1e6,
  lambdaArmGbSecond: 0.0000133334,
  wsMessage: 1 / 1e6,
  wsConnectionMinute: 0.25 / 1e6,
  /** EventBridge custom events, per 64 KB chunk. */
  eventBridgeEvent: 1 / 1e6,
} as const;

/** The reference workload's assumptions, each printed beside the line it drives. */
export const WORKLOAD = {
  roomMembers: 10,
  online: 3,
  messageBytes: 1024,
  /** The CDK stack's memorySize. */
  lambdaMemoryGb: 0.5,
  /** Connection-minutes per message: the 3 online members of a room that exchanges one message a minute. */
  connectionMinutesPerMessage: 3,
  /** Clients are expected to ping every 5 minutes: a ping in and a pong out per 5 connection-minutes. */
  keepAliveMessagesPerConnectionMinute: 2 / 5,
  /** At low traffic each stream batch holds one record: one fan-out invocation per message (an upper bound). */
  fanOutInvocationsPerMessage: 1,
};

export interface BillLine {
  item: string;
  /** Quantity per message, its unit, and how it was obtained. */
  perMessage: number;
  unit: string;
  basis: string;
  /** Dollars per million messages. */
  usdPerMillion: number;
}

export interface BillInput {
  /** AWS-priced units of one send (request) and of its fan-out, in the reference room. */
  send: Units;
  fanOut: Units;
  /** PostToConnection calls per message in the reference room (measured). */
  posts: number;
  /** Handler durations measured here (medians), billed as Lambda duration. */
  sendMs: number;
  fanOutMs: number;
  /** The events consumer's work for the message (outbound event, who is notified), measured; absent: not billed. */
  notify?: { aws: Units; ms: number; events: number };
}

export function modelBill(m: BillInput): { lines: BillLine[]; totalPerMillion: number } {
  const line = (item: string, perMessage: number, unit: string, price: number, basis: string): BillLine => ({
    item,
    perMessage,
    unit,
    basis,
    usdPerMillion: perMessage * price * 1e6,
  });
  const w = WORKLOAD;
  const invocations = 1 + w.fanOutInvocationsPerMessage;
  const gbSeconds = w.lambdaMemoryGb * (Math.ceil(m.sendMs) + Math.ceil(m.fanOutMs)) / 1000;
  const wsMessages = 1 + 1 + m.posts;
  const lines = [
    line('DynamoDB writes', writes(m.send) + writes(m.fanOut), 'WCU', PRICES.dynamoWriteUnit, 'measured: send + fan-out, AWS-priced'),
    line('DynamoDB reads', reads(m.send) + reads(m.fanOut), 'RCU', PRICES.dynamoReadUnit, 'measured: send + fan-out, AWS-priced'),
    line('DynamoDB Streams reads', 0, 'read requests', 0, 'GetRecords by a Lambda trigger is free'),
    line('Lambda requests', invocations, 'invocations', PRICES.lambdaRequest, `ws-message-send + stream-fanout (${w.fanOutInvocationsPerMessage} per message: one record per batch)`),
    line(
      'Lambda duration (arm64)',
      gbSeconds,
      'GB-s',
      PRICES.lambdaArmGbSecond,
      `${w.lambdaMemoryGb * 1024} MB × (${Math.ceil(m.sendMs)} ms send + ${Math.ceil(m.fanOutMs)} ms fan-out, handler spans measured here)`,
    ),
    line('API Gateway messages', wsMessages, 'messages (≤ 32 KB)', PRICES.wsMessage, `message_send in + ack out + ${m.posts} message_new out (measured posts)`),
    line('API Gateway connection minutes', w.connectionMinutesPerMessage, 'connection-minutes', PRICES.wsConnectionMinute, 'assumed: 3 online members, one message a minute per room'),
    line(
      'API Gateway keep-alive',
      w.connectionMinutesPerMessage * w.keepAliveMessagesPerConnectionMinute,
      'messages',
      PRICES.wsMessage,
      'assumed: ping + pong every 5 minutes per connection',
    ),
    line('S3', 0, 'requests', 0, 'no attachments in this workload'),
    ...(m.notify
      ? [
          line('Notifications: DynamoDB reads', reads(m.notify.aws), 'RCU', PRICES.dynamoReadUnit, 'measured: events consumer, default preferences (nobody notified), AWS-priced'),
          line('Notifications: DynamoDB writes', writes(m.notify.aws), 'WCU', PRICES.dynamoWriteUnit, 'measured: nothing is written when nobody is notified'),
          line('Notifications: Lambda requests', 1, 'invocations', PRICES.lambdaRequest, 'stream-events, its own event source mapping (one record per batch)'),
          line('Notifications: Lambda duration', (w.lambdaMemoryGb * Math.ceil(m.notify.ms)) / 1000, 'GB-s', PRICES.lambdaArmGbSecond, `${w.lambdaMemoryGb * 1024} MB × ${Math.ceil(m.notify.ms)} ms (handler span measured here)`),
          line('EventBridge events', m.notify.events, 'events', PRICES.eventBridgeEvent, 'measured: events put per message (its message.created; each notification adds one)'),
        ]
      : []),
  ];
  return { lines, totalPerMillion: lines.reduce((sum, l) => sum + l.usdPerMillion, 0) };
}
