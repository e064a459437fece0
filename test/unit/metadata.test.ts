import { describe, expect, it } from 'vitest';
import type * as z from 'zod/mini';
import { marshall, unmarshall } from '@aws-sdk/util-dynamodb';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { MESSAGE_LIMITS, sendMessageBody } from '#shared/schemas/messages.ts';
import { servicePostMessageBody } from '#shared/schemas/people.ts';
import { messageSendFrame } from '#shared/schemas/frames.ts';
import { message as messageEntity } from '#shared/adapters/dynamodb/entities/message.ts';
import { seat as seatEntity, sentName } from '#shared/adapters/dynamodb/entities/seat.ts';
import type { Item } from '#shared/adapters/dynamodb/entities/entity.ts';

const messageItem = (m: MessageRecord) => messageEntity.toItem(m);
const messageRecord = (item: Item) => messageEntity.fromItem(item);
const memberRecord = (item: Item) => seatEntity.fromItem(item);
const newMemberAttributes = (m: MemberRecord) => seatEntity.toItem(m);
import type { MemberRecord, MessageRecord } from '#shared/model.ts';
import { AppError } from '#shared/errors.ts';

/** Objects `depth` levels deep (the outer one is level 1). */
const nested = (depth: number): Record<string, unknown> => (depth <= 1 ? {} : { a: nested(depth - 1) });

/** Parsed from text, as every body and frame is: `__proto__` is an own key here. */
const HOSTILE = `{"__proto__":{"polluted":true},"constructor":{"prototype":{"x":1}},"toString":"s","hasOwnProperty":1,"":"empty key",
  "big":1e308,"tiny":5e-324,"negZero":-0,"huge":123456789012345678901234567890,"negTiny":-2.2250738585072014e-308,
  "arr":[[],{},null,true,"\\u0000😀"],"ROOM#x":{"SK":"MSG#1"}}`;

const message = (metadata: Record<string, unknown>): MessageRecord => ({
  id: 'M1',
  roomId: 'R1',
  seq: 1,
  senderId: 'ann',
  senderName: 'Ann',
  type: 'text',
  content: 'hi',
  mentions: [],
  metadata,
  createdAt: '2026-11-29T10:00:00.000Z',
});

describe('metadata', () => {
  it('is accepted as sent by message_send, POST messages and the service post, prototype keys included', () => {
    const m = JSON.parse(HOSTILE) as Record<string, unknown>;
    const parsed = [
      parseOrThrow(sendMessageBody, { content: 'x', metadata: m }).metadata,
      parseOrThrow(servicePostMessageBody, { metadata: m }).metadata,
      parseOrThrow(messageSendFrame, { type: 'message_send', roomId: 'R1', content: 'x', metadata: m }).metadata,
    ];
    for (const p of parsed) {
      expect(Object.keys(p!)).toEqual(Object.keys(m));
      expect(Object.hasOwn(p!, '__proto__')).toBe(true);
      expect(JSON.stringify(p)).toBe(JSON.stringify(m));
    }
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('is refused past 32 levels or 8 KB, or when it is not an object', () => {
    expect(parseOrThrow(sendMessageBody, { content: 'x', metadata: nested(MESSAGE_LIMITS.metadataDepth) }).metadata).toBeDefined();
    const bad = [
      nested(MESSAGE_LIMITS.metadataDepth + 1),
      { list: JSON.parse('['.repeat(40) + ']'.repeat(40)) },
      { v: JSON.parse('['.repeat(20000) + ']'.repeat(20000)) },
      { s: 'x'.repeat(MESSAGE_LIMITS.metadataBytes) },
      [],
      'text',
      null,
      42,
    ];
    for (const metadata of bad) {
      for (const schema of [sendMessageBody, servicePostMessageBody] as z.ZodMiniType[]) {
        const err = (() => {
          try {
            parseOrThrow(schema, { content: 'x', metadata });
          } catch (e) {
            return e;
          }
        })();
        expect(err).toBeInstanceOf(AppError);
        expect((err as AppError).code).toBe('validation_failed');
      }
    }
    // Exactly 8 KB is allowed.
    const exact = { s: '' };
    exact.s = 'x'.repeat(MESSAGE_LIMITS.metadataBytes - JSON.stringify(exact).length);
    expect(Buffer.byteLength(JSON.stringify(exact))).toBe(MESSAGE_LIMITS.metadataBytes);
    expect(parseOrThrow(sendMessageBody, { content: 'x', metadata: exact }).metadata).toEqual(exact);
  });

  it('round-trips through the item and DynamoDB marshalling exactly', () => {
    const m = JSON.parse(HOSTILE) as Record<string, unknown>;
    const deep = { ...m, deep: nested(31) };
    for (const metadata of [m, deep]) {
      const item = unmarshall(marshall(messageItem(message(metadata)), { removeUndefinedValues: true }));
      expect(typeof item.metadata).toBe('string');
      const back = messageRecord(item).metadata!;
      expect(Object.keys(back)).toEqual(Object.keys(metadata));
      expect(JSON.stringify(back)).toBe(JSON.stringify(metadata));
      expect(back.big).toBe(1e308);
      expect(back.tiny).toBe(5e-324);
      expect(back.huge).toBe(123456789012345678901234567890);
    }
  });

  it('still reads items written before, whose metadata is a map', () => {
    const legacy = unmarshall(marshall({ ...message({}), metadata: { kind: 'payment', amount: 12.5, nested: { ok: true } } }));
    expect(messageRecord(legacy).metadata).toEqual({ kind: 'payment', amount: 12.5, nested: { ok: true } });
  });
});

describe('seat claims', () => {
  const member: MemberRecord = { roomId: 'R1', userId: 'ann', displayName: 'Ann', role: 'member', joinedAt: '2026-11-29T10:00:00.000Z' };

  it('read into a Map whatever the clientMessageId, prototype names included', () => {
    const names = ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf', 'a-b_1'];
    const sent = Object.fromEntries(names.map((n, i) => [sentName(n), `2026-11-29T10:00:0${i}.000Z`]));
    const item = unmarshall(marshall({ ...newMemberAttributes(member), sent }));
    const read = memberRecord(item).sent!;
    expect([...read.keys()].sort()).toEqual([...names].sort());
    expect(read.get('__proto__')).toBe('2026-11-29T10:00:01.000Z');
    expect(memberRecord(unmarshall(marshall(newMemberAttributes(member)))).sent!.get('constructor')).toBeUndefined();
  });

  it('still reads names written without the prefix', () => {
    const item = unmarshall(marshall({ ...newMemberAttributes(member), sent: { old1: '2026-11-29T09:00:00.000Z', [sentName('new1')]: '2026-11-29T10:00:00.000Z' } }));
    expect([...memberRecord(item).sent!]).toEqual([
      ['old1', '2026-11-29T09:00:00.000Z'],
      ['new1', '2026-11-29T10:00:00.000Z'],
    ]);
  });
});
