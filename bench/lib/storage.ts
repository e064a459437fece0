import { GetItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { itemBytes, writeUnits } from '#shared/adapters/dynamodb/capacity.ts';
import { keys } from '#shared/adapters/dynamodb/entities/keys.ts';
import { COMPRESS_FROM_BYTES, contentFromStored, storedContent } from '#shared/adapters/dynamodb/entities/message-content.ts';
import { MESSAGE_BYTES, type ReferenceRoom } from './capacity.ts';
import { randomTextOf, textOf } from './clients.ts';
import type { Bench } from './harness.ts';
import { median } from './stats.ts';

/** How one 1 KB text was stored, read back from the table, and what its compression costs in CPU. */
export interface StoredText {
  text: 'prose' | 'random base64';
  /** The text's UTF-8 bytes. */
  bytes: number;
  /** The attribute it is stored under: `contentZ` (compressed) or `content` (as sent). */
  attribute: 'content' | 'contentZ';
  /** The bytes of that attribute's value. */
  storedBytes: number;
  /** The whole message item, as DynamoDB sizes it, and the write units a put of it costs. */
  itemBytes: number;
  writeUnits: number;
  /** Microseconds per call in this process, medians of `rounds` rounds: storing the text (compression and the choice), reading it back. */
  compressUs: number;
  decompressUs: number;
}

export interface MessageStorage {
  /** Text from this many UTF-8 bytes on is stored compressed, where that saves an eighth of it. */
  compressFromBytes: number;
  texts: StoredText[];
  /** Calls per round and rounds behind each CPU figure. */
  calls: number;
  rounds: number;
}

/**
 * How the reference message is stored: a 1 KB text of prose and one of random base64, sent into the
 * reference room (outside any measured window), their items read back with the bench's own client,
 * and the time the message entity takes to store and read each text.
 */
export async function measureMessageStorage(bench: Bench, room: ReferenceRoom, rounds: number, calls = 200): Promise<MessageStorage> {
  const sender = room.online[0]!;
  const texts: StoredText[] = [];
  for (const [text, content] of [
    ['prose', textOf('stored', MESSAGE_BYTES)],
    ['random base64', randomTextOf('stored', MESSAGE_BYTES)],
  ] as const) {
    const ack = await sender.request({ type: 'message_send', roomId: room.roomId, content });
    if (ack.type !== 'ack') throw new Error(`message_send: ${JSON.stringify(ack)}`);
    const { seq } = ack.result as { seq: number };
    const { Item } = await bench.db.send(new GetItemCommand({ TableName: bench.config.tableName, Key: marshall(keys.message(room.roomId, seq)), ConsistentRead: true }));
    if (!Item) throw new Error(`message ${seq} of the reference room is not in the table`);
    const attribute = Item.contentZ ? 'contentZ' : 'content';
    const storedBytes = Item.contentZ?.B?.byteLength ?? Buffer.byteLength(Item.content?.S ?? '');
    const stored = storedContent(content);
    const compressUs = timePerCall(rounds, calls, () => storedContent(content));
    const decompressUs = stored.contentZ ? timePerCall(rounds, calls, () => contentFromStored(stored.contentZ)) : 0;
    texts.push({ text, bytes: Buffer.byteLength(content), attribute, storedBytes, itemBytes: itemBytes(Item), writeUnits: writeUnits(itemBytes(Item)), compressUs, decompressUs });
  }
  await bench.settle();
  return { compressFromBytes: COMPRESS_FROM_BYTES, texts, calls, rounds };
}

/** Median over `rounds` of the microseconds a call of `f` takes, `calls` calls a round, after one round unrecorded. */
function timePerCall(rounds: number, calls: number, f: () => unknown): number {
  const perCall: number[] = [];
  for (let r = -1; r < rounds; r++) {
    const started = performance.now();
    for (let i = 0; i < calls; i++) f();
    if (r >= 0) perCall.push(((performance.now() - started) * 1000) / calls);
  }
  return median(perCall);
}
