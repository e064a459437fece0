import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import type { MessageRecord } from '#shared/model.ts';
import { message } from '#shared/adapters/dynamodb/entities/message.ts';
import { COMPRESS_FROM_BYTES, storedContent } from '#shared/adapters/dynamodb/entities/message-content.ts';
import { itemBytes, writeUnits } from '#shared/adapters/dynamodb/capacity.ts';
import { changeFromRecord } from '#shared/adapters/dynamodb/stream.ts';
import { CHAT_PROSE } from '#bench/fixtures/chat-text.ts';

/** Ids as a deployment has them: ULIDs for rooms and messages, a Cognito `sub` for the sender. */
const base: Omit<MessageRecord, 'content'> = {
  id: '01JDQ3V8Y5M6N7P8Q9R0S1T2V3',
  roomId: '01JDQ3TZ4XW5V6U7T8S9R0Q1P2',
  seq: 1234,
  senderId: '5f1c8a2e-4b3d-4e6f-9a7b-0c1d2e3f4a5b',
  senderName: 'Priya Raman',
  type: 'text',
  mentions: [],
  createdAt: '2026-01-02T03:04:05.000Z',
};
const record = (content: string): MessageRecord => ({ ...base, content });

/** The item as the table client reads it back: binary attributes as bytes. */
const fromTable = (item: Record<string, unknown>) => unmarshall(marshall(item, { removeUndefinedValues: true }));
/** The item's attribute values as a Lambda stream event carries them: JSON, binary attributes as base64. */
function inLambdaEvent(item: Record<string, unknown>): Record<string, AttributeValue> {
  return JSON.parse(
    JSON.stringify(marshall(item, { removeUndefinedValues: true }), function (this: Record<string, unknown>, key, value: unknown) {
      const raw = this[key];
      return ArrayBuffer.isView(raw) ? Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') : value;
    }),
  ) as Record<string, AttributeValue>;
}
const streamed = (item: Record<string, unknown>): MessageRecord => {
  const change = changeFromRecord({ eventName: 'INSERT', dynamodb: { NewImage: inLambdaEvent(item) } } as DynamoDBRecord);
  if (change?.kind !== 'message_created') throw new Error(`not a new message: ${JSON.stringify(change)}`);
  return change.message;
};

const utf8 = (s: string) => Buffer.byteLength(s, 'utf8');
const hasLoneSurrogate = (s: string) => /\p{Cs}/u.test(s);
/** The first `bytes` bytes of the bench's prose (ASCII). */
const prose = (bytes: number) => CHAT_PROSE.repeat(Math.ceil(bytes / CHAT_PROSE.length)).slice(0, bytes);

describe('message text: stored compressed when long, read back as it was sent', () => {
  // Any code unit: graphemes, astral characters, lone surrogates (the API keeps them as sent).
  const unit = fc.oneof(
    fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    fc.integer({ min: 0xd800, max: 0xdfff }).map((c) => String.fromCharCode(c)),
    fc.constantFrom(' ', 'e', 'the ', '😀', '\u{10FFFF}', '\uFEFF'),
  );
  const text = fc.oneof(
    fc.constant(''),
    fc.string({ unit, maxLength: 1500 }),
    // Long and repetitive: these compress, whatever they are made of.
    fc.tuple(fc.string({ unit, minLength: 1, maxLength: 40 }), fc.integer({ min: 1, max: 400 })).map(([s, n]) => s.repeat(n).slice(0, 4000)),
    fc.integer({ min: 0, max: 4000 }).map(prose),
  );

  it('round-trips any text, from the table and from a stream record, in exactly one attribute', () => {
    fc.assert(
      fc.property(text, (content) => {
        const item = message.toItem(record(content));
        expect('content' in item !== 'contentZ' in item).toBe(true);
        if (utf8(content) < COMPRESS_FROM_BYTES || hasLoneSurrogate(content)) expect(item.content).toBe(content);
        if (item.contentZ !== undefined) expect((item.contentZ as Uint8Array).byteLength).toBeLessThanOrEqual(utf8(content) * (7 / 8));
        const read = message.fromItem(fromTable(item));
        expect(read).toEqual(record(content));
        expect(read.content === content).toBe(true);
        expect(streamed(item).content === content).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('compresses from the threshold on, and only where that saves an eighth', () => {
    expect(storedContent(prose(COMPRESS_FROM_BYTES - 1))).toEqual({ content: prose(COMPRESS_FROM_BYTES - 1) });
    expect(storedContent(prose(COMPRESS_FROM_BYTES)).contentZ).toBeInstanceOf(Uint8Array);
    expect(storedContent('hello')).toEqual({ content: 'hello' });
    expect(storedContent('')).toEqual({ content: '' });
    // 171 characters of three bytes each: over the threshold in bytes, under it in characters.
    expect(storedContent('語'.repeat(171)).contentZ).toBeInstanceOf(Uint8Array);
    // Random 7-bit ASCII: Brotli saves about a tenth, too little to keep.
    const noise = Array.from(randomBytes(1024), (b) => String.fromCharCode(b & 0x7f)).join('');
    expect(storedContent(noise)).toEqual({ content: noise });
    // Random base64 still loses a fifth (six bits a byte): stored compressed.
    const base64 = randomBytes(768).toString('base64');
    expect(storedContent(base64).contentZ!.byteLength).toBeLessThan(0.85 * 1024);
    // A lone surrogate anywhere keeps the text as a string, however long.
    const broken = `${prose(2000)}\ud800`;
    expect(storedContent(broken)).toEqual({ content: broken });
  });

  it('makes a 1 KB prose message a 1-unit item, where the text as sent makes it 2', () => {
    const content = prose(1024);
    const item = marshall(message.toItem(record(content)), { removeUndefinedValues: true });
    expect(item.content).toBeUndefined();
    expect(writeUnits(itemBytes(item))).toBe(1);
    const plain = marshall({ ...message.toItem(record('')), content }, { removeUndefinedValues: true });
    expect(writeUnits(itemBytes(plain))).toBe(2);
  });

  it('reads items written before, whose long text is a plain `content`, as they are', () => {
    const legacy = { ...message.toItem(record('')), content: prose(3000) };
    expect(message.fromItem(fromTable(legacy))).toEqual(record(prose(3000)));
    expect(streamed(legacy).content).toBe(prose(3000));
  });

  it('reads `contentZ` as bytes (table client) and as base64 (Lambda event) alike', () => {
    const item = message.toItem(record(prose(1500)));
    const asBytes = fromTable(item);
    expect(asBytes.contentZ).toBeInstanceOf(Uint8Array);
    const asBase64 = unmarshall(inLambdaEvent(item));
    expect(typeof asBase64.contentZ).toBe('string');
    expect(message.fromItem(asBytes).content).toBe(prose(1500));
    expect(message.fromItem(asBase64).content).toBe(prose(1500));
  });

  it('refuses an item with both forms, or with a compressed form that is not one', () => {
    const item = message.toItem(record(prose(1500)));
    expect(() => message.fromItem({ ...item, content: 'stale' })).toThrow(/Malformed message item \(content/);
    expect(() => message.fromItem({ ...item, contentZ: new Uint8Array([1, 2, 3]) })).toThrow(/Malformed message item \(contentZ/);
    expect(() => message.fromItem({ ...item, contentZ: 42 })).toThrow(/Malformed message item \(contentZ/);
  });
});
