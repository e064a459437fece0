import { describe, expect, it } from 'vitest';
import type { DynamoDBRecord } from 'aws-lambda';
import { compileFilter, matchesAny, matchesFilter } from '#infra/local/event-filter.ts';
import { ENTITY, TABLE } from '#shared/adapters/dynamodb/table.ts';
import { keys } from '#shared/adapters/dynamodb/entities/keys.ts';
import { streamFilterPatterns } from '#shared/adapters/dynamodb/stream-filters.ts';

type Image = NonNullable<NonNullable<DynamoDBRecord['dynamodb']>['NewImage']>;

function record(eventName: 'INSERT' | 'MODIFY' | 'REMOVE', images: { NewImage?: Image; OldImage?: Image }): DynamoDBRecord {
  return {
    eventID: 'e1',
    eventName,
    eventVersion: '1.1',
    eventSource: 'aws:dynamodb',
    awsRegion: 'us-east-1',
    eventSourceARN: 'arn:aws:dynamodb:us-east-1:000000000000:table/t/stream/x',
    dynamodb: { ApproximateCreationDateTime: 1_700_000_000, SequenceNumber: '1', SizeBytes: 42, StreamViewType: 'NEW_AND_OLD_IMAGES', ...images },
  };
}

const item = (key: { PK: string; SK: string }, et?: string, extra: Image = {}): Image => ({
  PK: { S: key.PK },
  SK: { S: key.SK },
  ...(et === undefined ? {} : { [TABLE.entityAttribute]: { S: et } }),
  ...extra,
});

const message = item(keys.message('r1', 1), ENTITY.message, { body: { S: 'hi' }, tags: { SS: ['a', 'b'] } });
const typing = item(keys.typing('r1', 'u1'), ENTITY.typing, { ttl: { N: '1700000000' } });
const connection = item(keys.connection('c1'), ENTITY.connection);
const member = item(keys.member('r1', 'u1'), ENTITY.member);
const seat = item(keys.seat('u1', 'r1'), ENTITY.seat);

describe('the fan-out stream filter of table.ts', () => {
  const fanOut = compileFilter(streamFilterPatterns);

  it.each([
    ['a message INSERT', record('INSERT', { NewImage: message })],
    ['a message MODIFY', record('MODIFY', { NewImage: message, OldImage: message })],
    ['a connection INSERT', record('INSERT', { NewImage: connection })],
    ['a connection REMOVE, through its OldImage', record('REMOVE', { OldImage: connection })],
    ['a message REMOVE', record('REMOVE', { OldImage: message })],
    ['a member INSERT', record('INSERT', { NewImage: member })],
    ['a read receipt (seat MODIFY with readSource receipt)', record('MODIFY', { NewImage: { ...seat, readSource: { S: 'receipt' } } })],
    ['a read receipt on a member item written before seats (member MODIFY with readSource receipt)', record('MODIFY', { NewImage: { ...member, readSource: { S: 'receipt' } } })],
  ])('lets through %s', (_, r) => {
    expect(fanOut(r)).toBe(true);
  });

  it.each([
    ['a typing INSERT', record('INSERT', { NewImage: typing })],
    ['a typing REMOVE (its TTL expiry)', record('REMOVE', { OldImage: typing })],
    ['a read mark moved by a send (seat MODIFY with readSource send)', record('MODIFY', { NewImage: { ...seat, readSource: { S: 'send' } } })],
    ['a change of role on a seat (MODIFY without readSource)', record('MODIFY', { NewImage: seat })],
    ['a new seat (the member item tells who joined)', record('INSERT', { NewImage: seat })],
    ['a removed seat', record('REMOVE', { OldImage: seat })],
    ['a read mark moved by a send (member MODIFY with readSource send)', record('MODIFY', { NewImage: { ...member, readSource: { S: 'send' } } })],
    ['an item without an entity type', record('INSERT', { NewImage: item(keys.room('r1')) })],
    ['a REMOVE that carries only a NewImage', record('REMOVE', { NewImage: connection })],
    ['an INSERT that carries only an OldImage', record('INSERT', { OldImage: message })],
  ])('drops %s', (_, r) => {
    expect(fanOut(r)).toBe(false);
  });
});

describe('matchesFilter', () => {
  const insert = record('INSERT', { NewImage: message });
  const image = (rule: unknown) => ({ dynamodb: { NewImage: { body: { S: [rule] } } } });

  it('ORs the values of an array and ANDs the keys', () => {
    expect(matchesFilter({ eventName: ['MODIFY', 'INSERT'] }, insert)).toBe(true);
    expect(matchesFilter({ eventName: ['MODIFY', 'REMOVE'] }, insert)).toBe(false);
    expect(matchesFilter({ eventName: ['INSERT'], awsRegion: ['eu-west-1'] }, insert)).toBe(false);
    expect(matchesFilter({ eventName: ['INSERT'], awsRegion: ['us-east-1'] }, insert)).toBe(true);
  });

  it('compares literals by type and value', () => {
    expect(matchesFilter({ dynamodb: { SizeBytes: [42] } }, insert)).toBe(true);
    expect(matchesFilter({ dynamodb: { SizeBytes: ['42'] } }, insert)).toBe(false);
    expect(matchesFilter({ dynamodb: { NewImage: { body: { S: ['HI'] } } } }, insert)).toBe(false);
    expect(matchesFilter({ a: [null] }, { a: null })).toBe(true);
    expect(matchesFilter({ a: [null] }, {})).toBe(false);
    expect(matchesFilter({ a: [false] }, { a: false })).toBe(true);
  });

  it('matches an array in the record when one of its elements matches', () => {
    expect(matchesFilter({ dynamodb: { NewImage: { tags: { SS: ['b', 'z'] } } } }, insert)).toBe(true);
    expect(matchesFilter({ dynamodb: { NewImage: { tags: { SS: ['z'] } } } }, insert)).toBe(false);
    expect(matchesFilter({ list: { id: ['x'] } }, { list: [{ id: 'w' }, { id: 'x' }] })).toBe(true);
  });

  it('supports prefix on strings only', () => {
    expect(matchesFilter(image({ prefix: 'h' }), insert)).toBe(true);
    expect(matchesFilter(image({ prefix: 'hello' }), insert)).toBe(false);
    expect(matchesFilter({ dynamodb: { SequenceNumber: [{ prefix: '1' }], SizeBytes: [{ prefix: '4' }] } }, insert)).toBe(false);
  });

  it('supports exists on values, not on objects (as EventBridge does)', () => {
    expect(matchesFilter(image({ exists: true }), insert)).toBe(true);
    expect(matchesFilter(image({ exists: false }), insert)).toBe(false);
    expect(matchesFilter({ dynamodb: { NewImage: { nope: { S: [{ exists: false }] } } } }, insert)).toBe(true);
    expect(matchesFilter({ dynamodb: { NewImage: { nope: { S: [{ exists: true }] } } } }, insert)).toBe(false);
    expect(matchesFilter({ dynamodb: { NewImage: { body: [{ exists: true }] } } }, insert)).toBe(false);
    expect(matchesFilter({ dynamodb: { OldImage: { body: { S: [{ exists: false }] } } } }, insert)).toBe(true);
  });

  it('supports anything-but, which needs a value', () => {
    expect(matchesFilter({ eventName: [{ 'anything-but': ['REMOVE', 'MODIFY'] }] }, insert)).toBe(true);
    expect(matchesFilter({ eventName: [{ 'anything-but': ['INSERT'] }] }, insert)).toBe(false);
    expect(matchesFilter({ eventName: [{ 'anything-but': 'INSERT' }] }, insert)).toBe(false);
    expect(matchesFilter({ missing: [{ 'anything-but': ['x'] }] }, insert)).toBe(false);
  });

  it('supports numeric ranges on JSON numbers only', () => {
    expect(matchesFilter({ dynamodb: { SizeBytes: [{ numeric: ['>', 40, '<=', 42] }] } }, insert)).toBe(true);
    expect(matchesFilter({ dynamodb: { SizeBytes: [{ numeric: ['>', 42] }] } }, insert)).toBe(false);
    expect(matchesFilter({ dynamodb: { SizeBytes: [{ numeric: ['=', 42] }] } }, insert)).toBe(true);
    expect(matchesFilter({ n: [{ numeric: ['=', 42] }] }, { n: '42' })).toBe(false);
  });

  it('applies no filtering when there is no pattern, like Lambda', () => {
    expect(matchesAny([], insert)).toBe(true);
    expect(matchesAny([{ eventName: ['REMOVE'] }, { eventName: ['INSERT'] }], insert)).toBe(true);
    expect(matchesAny([{ eventName: ['REMOVE'] }], insert)).toBe(false);
  });

  it.each([
    ['an unsupported operator', { a: [{ suffix: 'x' }] }, /Unsupported filter operator "suffix"/],
    ['equals-ignore-case', { a: [{ 'equals-ignore-case': 'x' }] }, /Unsupported filter operator/],
    ['anything-but with an operator', { a: [{ 'anything-but': { prefix: 'x' } }] }, /Unsupported "anything-but"/],
    ['a bare value instead of an array', { eventName: 'INSERT' }, /expected an array of rules or an object/],
    ['two operators in one rule', { a: [{ prefix: 'x', exists: true }] }, /one operator per object/],
    ['a malformed numeric rule', { a: [{ numeric: ['>', '1'] }] }, /Invalid "numeric"/],
    ['an unknown numeric operator', { a: [{ numeric: ['!=', 1] }] }, /Invalid "numeric"/],
    ['a non-boolean exists', { a: [{ exists: 'yes' }] }, /Invalid "exists"/],
  ])('rejects %s when compiled', (_, pattern, message) => {
    expect(() => compileFilter([pattern])).toThrow(message);
  });

  it('rejects an unsupported operator even where matching would stop before it', () => {
    const pattern = { eventName: ['NEVER'], dynamodb: { Keys: { PK: { S: [{ wildcard: '*' }] } } } };
    expect(() => matchesFilter(pattern, insert)).toThrow(/wildcard/);
  });
});
