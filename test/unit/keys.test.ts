import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ENTITY, TABLE, tableSchema } from '#shared/adapters/dynamodb/table.ts';
import { connectionEntry, keys, parseConnectionEntry, padSeq, seqFromMessageSk } from '#shared/adapters/dynamodb/entities/keys.ts';
import { STREAMED_ENTITIES, streamFilterPatterns } from '#shared/adapters/dynamodb/stream-filters.ts';

describe('table keys', () => {
  it('puts a room, its members and its messages in one partition', () => {
    expect(keys.room('r1')).toEqual({ PK: 'ROOM#r1', SK: 'ROOM' });
    expect(keys.member('r1', 'u1')).toEqual({ PK: 'ROOM#r1', SK: 'MEMBER#u1' });
    expect(keys.message('r1', 42)).toEqual({ PK: 'ROOM#r1', SK: 'MSG#000000000042' });
  });

  it('sorts message keys by seq as strings sort', () => {
    const sks = [1, 9, 10, 99, 100, 123456789].map((s) => keys.message('r', s).SK);
    expect([...sks].sort()).toEqual(sks);
  });

  it('reads the seq back from a message sort key, and refuses other keys', () => {
    expect(seqFromMessageSk(keys.message('r', 12345).SK)).toBe(12345);
    expect(() => seqFromMessageSk('MEMBER#u')).toThrow();
  });

  it('keeps reaction, change and typing keys out of the message and member ranges', () => {
    for (const k of [keys.reaction('r', 1, '👍', 'u1'), keys.change('r', '2026-01-01T00:00:00.000Z', 1, 'edited'), keys.typing('r', 'u1')]) {
      expect(k.PK).toBe('ROOM#r');
      expect(k.SK.startsWith('MSG#')).toBe(false);
      expect(k.SK.startsWith('MEMBER#')).toBe(false);
    }
  });

  it('puts no sort key of a room partition between its messages and the room item: one query reads the room with its newest message', () => {
    // Every builder of the key table, called with any strings (a seq is padded as a string is):
    // a new kind of item in the room partition is checked without being listed here.
    const builders = Object.entries(keys) as [string, (...args: string[]) => unknown][];
    const [lowest, room] = [keys.message('r', 0).SK.slice(0, 'MSG#'.length), keys.room('r').SK];
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary', maxLength: 12 }), { minLength: 4, maxLength: 4 }), (args) => {
        for (const [name, build] of builders) {
          const key = build(...args) as Partial<{ PK: string; SK: string }>;
          if (typeof key?.SK !== 'string' || !key.PK?.startsWith('ROOM#')) continue;
          const ok = key.SK === room || key.SK.startsWith(lowest) || key.SK < lowest || key.SK > room;
          if (!ok) throw new Error(`${name} makes ${JSON.stringify(key.SK)}, between the messages and the room item`);
        }
      }),
    );
    // And the query's range itself: the room is the last item at or below 'ROOM', messages right below it.
    expect(keys.message('r', 999_999_999_999).SK < room).toBe(true);
    expect(keys.member('r', '\u{10FFFF}').SK < keys.message('r', 1).SK).toBe(true);
    expect(keys.reaction('r', 1, '', '').SK > room && keys.typing('r', '').SK > room).toBe(true);
  });

  it('ranges reactions by message seq, keycap emoji with # included', () => {
    const range = keys.reactionRange('r', 2, 3);
    const inside = [keys.reaction('r', 2, '#️⃣', 'u'), keys.reaction('r', 3, '👍', 'u')].map((k) => k.SK);
    const outside = [keys.reaction('r', 1, '👍', 'u'), keys.reaction('r', 4, '#️⃣', 'u')].map((k) => k.SK);
    for (const sk of inside) expect(sk >= range.from && sk <= range.to).toBe(true);
    for (const sk of outside) expect(sk >= range.from && sk <= range.to).toBe(false);
    expect(keys.reaction('r', 2, '#️⃣', 'u').SK.startsWith(keys.reactionsOfEmoji('r', 2, '#️⃣').SKPrefix)).toBe(true);
    expect(keys.reaction('r', 2, '👍', 'u').SK.startsWith(keys.reactionsOfEmoji('r', 2, '#️⃣').SKPrefix)).toBe(false);
  });

  it('lists a user\'s connections as presence entries, room scope included', () => {
    for (const [id, scope] of [['L0SM9cOFvHcCIhw=', undefined], ['a+b/c==', 'room-1']] as const) {
      expect(parseConnectionEntry(connectionEntry(id, scope))).toEqual(scope === undefined ? { connectionId: id } : { connectionId: id, scopeRoomId: scope });
    }
  });

  it('keeps a room\'s live list in a partition of its own, apart from the room\'s and every user\'s', () => {
    const entry = keys.live('r1', 'L0SM9cOFvHcCIhw=');
    expect(entry).toEqual({ PK: 'LIVE#r1', SK: 'CONN#L0SM9cOFvHcCIhw=' });
    expect(entry.SK.startsWith(keys.livePrefix('r1').SKPrefix)).toBe(true);
    for (const other of [keys.room('r1'), keys.presence('r1'), keys.seat('r1', 'r1'), keys.connection('r1')]) expect(entry.PK).not.toBe(other.PK);
  });

  it('indexes memberships by user', () => {
    expect(keys.memberGsi1('r1', 'u1')).toEqual({ GSI1PK: 'USER#u1', GSI1SK: 'ROOM#r1' });
    expect(keys.userRoomsGsi1('u1').GSI1SKPrefix).toBe('ROOM#');
  });

  it('pads seqs to a fixed width', () => {
    expect(padSeq(7)).toHaveLength(12);
  });

  it('defines every key attribute the schema indexes', () => {
    const defined = tableSchema.attributeDefinitions.map((a) => a.AttributeName);
    expect(defined).toEqual(expect.arrayContaining([TABLE.partitionKey, TABLE.sortKey, TABLE.gsi1.partitionKey, TABLE.gsi1.sortKey]));
  });

  it('wakes the fan-out only for streamed entities', () => {
    expect(STREAMED_ENTITIES).not.toContain(ENTITY.typing);
    expect(STREAMED_ENTITIES).not.toContain(ENTITY.change);
    expect(JSON.stringify(streamFilterPatterns)).toContain(ENTITY.message);
  });
});
