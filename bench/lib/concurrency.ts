import { api } from '#test/support/clients.ts';
import { createRoom, createUsers, textOf } from './clients.ts';
import type { Bench } from './harness.ts';
import { MESSAGE_BYTES } from './capacity.ts';
import { reads, writes } from './meter.ts';
import { distribution, type Distribution } from './stats.ts';

/** A burst of concurrent sends into one room: what seqs they got and what they cost. */
export interface SendBurst {
  senders: number;
  perSender: number;
  /** Sends answered 201 (the rest are counted by status in `statuses`). */
  stored: number;
  statuses: Record<string, number>;
  /** The seqs stored are exactly 1..stored, each once (read back from history). */
  gapless: boolean;
  /** Message puts refused because another send had taken the seq first (each still costs its units). */
  refusedPuts: number;
  /** AWS-priced units of the sends' own calls (their fan-out left out), in all and per message. */
  writeUnits: number;
  readUnits: number;
  writeUnitsPerMessage: number;
  readUnitsPerMessage: number;
  seconds: number;
  /** Each send's time to its answer, ms: all start together, so this is when each was done. */
  answeredMs: Distribution;
}

/**
 * `senders` users each send `perSender` 1 KB messages into one room, all at once over HTTP, and
 * the history is read back: the seqs must be 1..n, each once. Calls made by the fan-out
 * (`fanOutOperations`) are left out of the units.
 */
export async function measureSendBurst(bench: Bench, senders: number, perSender: number, fanOutOperations: ReadonlySet<string>): Promise<SendBurst> {
  const { httpUrl } = bench.stack;
  const users = await createUsers(httpUrl, 'burst', senders);
  const roomId = await createRoom(httpUrl, users[0]!, users.slice(1));
  await bench.settle();
  const started = performance.now();
  const doneAt: number[] = [];
  const results = await Promise.all(
    users.flatMap((u, s) =>
      Array.from({ length: perSender }, async (_, i) => {
        const r = await api(httpUrl, 'POST', `/rooms/${roomId}/messages`, { token: u.token, body: { content: textOf(`burst${s}.${i}`, MESSAGE_BYTES) } });
        doneAt.push(performance.now() - started);
        return r;
      }),
    ),
  );
  const seconds = (performance.now() - started) / 1000;
  await bench.stack.streamDrained();
  const { readings } = bench.recorder.take();
  const own = readings.filter((r) => !fanOutOperations.has(r.operation));
  const calls = await bench.calls(own);
  const statuses: Record<string, number> = {};
  for (const r of results) statuses[String(r.status)] = (statuses[String(r.status)] ?? 0) + 1;
  const stored = results.filter((r) => r.status === 201).length;
  const seqs: number[] = [];
  for (let query = 'afterSeq=0'; ; ) {
    const page = await api(httpUrl, 'GET', `/rooms/${roomId}/messages?${query}&limit=100`, { token: users[0]!.token });
    seqs.push(...(page.body.items as { seq: number }[]).map((m) => m.seq));
    if (!page.body.nextCursor) break;
    query = `cursor=${encodeURIComponent(page.body.nextCursor as string)}`;
  }
  const answered = results.filter((r) => r.status === 201).map((r) => r.body.seq as number).sort((a, b) => a - b);
  const expected = Array.from({ length: stored }, (_, i) => i + 1);
  const gapless = JSON.stringify(seqs) === JSON.stringify(expected) && JSON.stringify(answered) === JSON.stringify(expected);
  const writeUnits = calls.reduce((sum, c) => sum + writes(c.aws), 0);
  const readUnits = calls.reduce((sum, c) => sum + reads(c.aws), 0);
  return {
    senders,
    perSender,
    stored,
    statuses,
    gapless,
    refusedPuts: own.filter((r) => r.operation === 'insertMessage' && r.conditionFailed).length,
    writeUnits,
    readUnits,
    writeUnitsPerMessage: stored ? writeUnits / stored : 0,
    readUnitsPerMessage: stored ? readUnits / stored : 0,
    seconds,
    answeredMs: distribution(doneAt),
  };
}
