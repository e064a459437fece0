import { describe, expect, it } from 'vitest';
import { ENTITY, STREAMED_ENTITIES, TABLE, keys, padSeq, seqFromMessageSk, streamFilterPatterns, tableSchema } from '../../shared/adapters/dynamodb/table.ts';

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

  it('keeps claim keys apart per user and per clientMessageId', () => {
    expect(keys.claim('r', 'u1', 'c1')).not.toEqual(keys.claim('r', 'u2', 'c1'));
    expect(keys.claim('r', 'u1', 'c1').SK.startsWith('MSG#')).toBe(false);
    expect(keys.claim('r', 'u1', 'c1').SK.startsWith('MEMBER#')).toBe(false);
  });

  it('indexes memberships and connections by user under distinct prefixes', () => {
    expect(keys.memberGsi1('r1', 'u1')).toEqual({ GSI1PK: 'USER#u1', GSI1SK: 'ROOM#r1' });
    expect(keys.connectionGsi1('u1', 'c1')).toEqual({ GSI1PK: 'USER#u1', GSI1SK: 'CONN#c1' });
    expect(keys.userRoomsGsi1('u1').GSI1SKPrefix).toBe('ROOM#');
    expect(keys.userConnectionsGsi1('u1').GSI1SKPrefix).toBe('CONN#');
  });

  it('pads seqs to a fixed width', () => {
    expect(padSeq(7)).toHaveLength(12);
  });

  it('defines every key attribute the schema indexes', () => {
    const defined = tableSchema.attributeDefinitions.map((a) => a.AttributeName);
    expect(defined).toEqual(expect.arrayContaining([TABLE.partitionKey, TABLE.sortKey, TABLE.gsi1.partitionKey, TABLE.gsi1.sortKey]));
  });

  it('wakes the fan-out only for streamed entities', () => {
    expect(STREAMED_ENTITIES).not.toContain(ENTITY.claim);
    expect(JSON.stringify(streamFilterPatterns)).toContain(ENTITY.message);
  });
});
