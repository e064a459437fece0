import { AsyncLocalStorage } from 'node:async_hooks';
import type { CapacityReading } from '#shared/adapters/dynamodb/capacity.ts';
import { publishChange } from '#shared/domain/events.ts';
import { notifyMessage } from '#shared/domain/notifications.ts';
import { getNotifyDeps } from '#functions/lib/notify-deps.ts';
import { createRoom, textOf } from './clients.ts';
import { MESSAGE_BYTES, type ReferenceRoom } from './capacity.ts';
import { addUnits, noUnits, type Units } from './meter.ts';
import type { Bench } from './harness.ts';
import { median } from './stats.ts';

/** One message's notification path: DynamoDB units, the handler's time, who was notified, events put on the bus. */
export interface NotificationRun {
  aws: Units;
  ms: number;
  notified: number;
  /** Outbound events put for the message (its own, and one per notification), each billed by EventBridge. */
  events: number;
  /** Where the units go: each store operation, its calls and their AWS-priced units. */
  byOperation: { operation: string; calls: number; aws: Units }[];
  /** Messages measured: `ms` is their median (units and counts are each message's, the same for all). */
  runs: number;
}

/** The notification path of one message: its outbound event, and who is notified. */
export interface NotificationCost {
  /** A plain message under the default preferences (mentions and direct rooms): everyone offline is considered, nobody notified. */
  plain: NotificationRun;
  /** A message mentioning one offline member: one notification (event, unread total, subscriptions, state). */
  mention: NotificationRun;
  /**
   * A plain message under the default preferences in a room of `members` (the sender online, the
   * others never connected): what the path costs when the room is ten times the reference room's.
   */
  plainLargeRoom: NotificationRun & { members: number };
  /** Messages asked for per row; a row may have fewer (`mention`: one per offline member of the reference room). */
  runs: number;
}

/** The size of the room `plainLargeRoom` is measured in. */
export const LARGE_ROOM_MEMBERS = 100;

const tagged = new AsyncLocalStorage<true>();

/**
 * What the events consumer does for a new message in the reference room (10 members, 3 online),
 * called directly as the handler would, every DynamoDB call it makes counted. Events are put on
 * the runtime's EventBridge through the SDK (its round trips are in the time) and counted: the
 * bus's price is per event, in the bill.
 */
export async function measureNotifications(bench: Bench, room: ReferenceRoom, runs: number): Promise<NotificationCost> {
  const base = getNotifyDeps();
  let put = 0;
  const deps: typeof base = { ...base, events: { publish: (events) => ((put += events.length), base.events.publish(events)) } };
  const sender = room.online[0]!;
  const measure = async (content: string, roomId = room.roomId) => {
    const ack = await sender.request({ type: 'message_send', roomId, content });
    const message = await deps.messages.getMessage(roomId, Number((ack.result as { seq: number }).seq));
    if (!message) throw new Error('the message just sent is not there');
    await bench.settle();
    const readings: CapacityReading[] = [];
    const stop = bench.recorder.tap((r) => tagged.getStore() && readings.push(r));
    const started = performance.now();
    const putBefore = put;
    let notified = 0;
    try {
      await tagged.run(true, async () => {
        await publishChange(deps, { kind: 'message_created', message }, `bench-${message.id}`);
        notified = (await notifyMessage(deps, message)).filter((o) => o.action === 'sent').length;
      });
    } finally {
      stop();
    }
    const ms = performance.now() - started;
    const calls = await bench.calls(readings);
    const aws = calls.reduce((u, c) => addUnits(u, c.aws), noUnits());
    const byOperation = new Map<string, { operation: string; calls: number; aws: Units }>();
    for (const c of calls) {
      const o = byOperation.get(c.operation) ?? { operation: c.operation, calls: 0, aws: noUnits() };
      byOperation.set(c.operation, { ...o, calls: o.calls + 1, aws: addUnits(o.aws, c.aws) });
    }
    return { aws, ms, notified, events: put - putBefore, byOperation: [...byOperation.values()], runs: 1 };
  };
  const plain: NotificationRun[] = [];
  for (let i = 0; i < runs; i++) plain.push(await measure(textOf(`plain ${i}`, MESSAGE_BYTES)));
  // A different offline member each time, so no notification is coalesced into another.
  const offline = room.members.slice(room.online.length);
  const mention: typeof plain = [];
  for (let i = 0; i < Math.min(runs, offline.length); i++) mention.push(await measure(`<@${offline[i]!.userId}> ${textOf(`mention ${i}`, MESSAGE_BYTES - 64)}`));
  const summary = (xs: typeof plain): NotificationRun => ({ ...xs.at(-1)!, ms: median(xs.map((x) => x.ms)), runs: xs.length });
  // Members added by id alone: nobody connects as them, and their preferences are the default.
  const crowd = Array.from({ length: LARGE_ROOM_MEMBERS - 1 }, (_, i) => ({ userId: `${room.roomId}-crowd-${i}`, displayName: 'crowd', token: '' }));
  const large = await createRoom(bench.stack.httpUrl, sender.user, crowd);
  const plainLarge: NotificationRun[] = [];
  for (let i = 0; i < runs; i++) plainLarge.push(await measure(textOf(`plain ${i}`, MESSAGE_BYTES), large));
  return { plain: summary(plain), mention: summary(mention), plainLargeRoom: { ...summary(plainLarge), members: LARGE_ROOM_MEMBERS }, runs };
}
