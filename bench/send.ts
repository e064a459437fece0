/**
 * `npx tsx bench/send.ts`: the send path's part of the bench alone (a few minutes): capacity per
 * operation in the reference room, handler durations, the concurrent-send burst and the modelled
 * bill, printed, nothing written. `npm run bench` measures all of it again with everything else.
 */
import { startBench } from './lib/harness.ts';
import { createReferenceRoom, FAN_OUT_LOOKUPS, measureFanOut, measureOperations, measureSendDurations, MESSAGE_BYTES } from './lib/capacity.ts';
import { BenchSocket, createUsers, inBatches, textOf } from './lib/clients.ts';
import { measureSendBurst } from './lib/concurrency.ts';
import { modelBill } from './lib/bill.ts';
import { reads, writes } from './lib/meter.ts';

process.env.DDB_LOCAL_TELEMETRY ??= '0';
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const bench = await startBench();
try {
  const room = await createReferenceRoom(bench, 'ref');
  await room.online[0]!.request({ type: 'message_send', roomId: room.roomId, content: textOf('first', MESSAGE_BYTES) });
  const fanOut = await measureFanOut(bench, room);
  const fanOutOperations = new Set([...FAN_OUT_LOOKUPS, ...[...fanOut.perEvent, ...fanOut.perMember].map((o) => o.operation)]);
  const outsiders = await inBatches(await createUsers(bench.stack.httpUrl, 'out', 2), 2, (u) => BenchSocket.open(bench.stack.wsUrl, u));
  const operations = await measureOperations(bench, room, fanOutOperations, new Set(outsiders.map((s) => s.connectionId)));
  for (const o of operations) {
    console.log(`${o.name.padEnd(40)} request ${reads(o.request.aws)} RCU ${writes(o.request.aws)} WCU, fan-out ${reads(o.fanOut.aws)} RCU ${writes(o.fanOut.aws)} WCU`);
    for (const c of o.calls.filter((x) => x.stage === 'request')) console.log(`    ${c.operation} ${c.command} ${c.kind === 'read' ? reads(c.aws) : writes(c.aws)}${c.awsNote ? ` (${c.awsNote})` : ''}`);
  }
  const durations = await measureSendDurations(bench, room, fanOutOperations, 20, 50);
  const burst = await measureSendBurst(bench, 5, 50, fanOutOperations);
  console.log('send burst', JSON.stringify(burst));
  const send = operations.find((o) => o.name === 'send 1 KB text')!;
  const bill = modelBill({ send: send.request.aws, fanOut: fanOut.total.aws, posts: send.posts, sendMs: durations.sendMs, fanOutMs: durations.fanOutMs });
  for (const l of bill.lines) console.log(`${l.item.padEnd(32)} ${l.perMessage} ${l.unit}  $${l.usdPerMillion.toFixed(3)} / M  (${l.basis})`);
  const ours = bill.lines.filter((l) => /^(DynamoDB|Lambda)/.test(l.item)).reduce((sum, l) => sum + l.usdPerMillion, 0);
  console.log(`total $${bill.totalPerMillion.toFixed(3)} / M; DynamoDB + Lambda $${ours.toFixed(3)} = ${((ours / bill.totalPerMillion) * 100).toFixed(1)}%`);
  console.log(`fan-out per message: ${reads(fanOut.total.aws)} RCU ${writes(fanOut.total.aws)} WCU; durations ${JSON.stringify(durations)}`);
  await inBatches([...outsiders, ...room.online], 10, (s) => s.close());
} finally {
  await bench.close();
}
process.exit(0);
