import { describe, expect, it } from 'vitest';
import { connectTokenOf } from '#functions/ws-authorizer.ts';

const event = (query?: Record<string, string[]>, headers?: Record<string, string[]>) => ({
  queryStringParameters: query ? Object.fromEntries(Object.entries(query).map(([k, v]) => [k, v.at(-1)!])) : null,
  multiValueQueryStringParameters: query ?? null,
  headers: headers ? Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.at(-1)!])) : null,
  multiValueHeaders: headers ?? null,
});

describe('connectTokenOf: the one token of a $connect request', () => {
  it('takes it from the query, the Bearer header, or both when they agree', () => {
    expect(connectTokenOf(event({ token: ['a.b.c'] }))).toBe('a.b.c');
    expect(connectTokenOf(event(undefined, { Authorization: ['Bearer a.b.c'] }))).toBe('a.b.c');
    expect(connectTokenOf(event(undefined, { authorization: ['bearer   a.b.c'] }))).toBe('a.b.c');
    expect(connectTokenOf(event({ token: ['a.b.c'] }, { AUTHORIZATION: ['Bearer a.b.c'] }))).toBe('a.b.c');
    expect(connectTokenOf(event({ token: ['a.b.c', 'a.b.c'] }))).toBe('a.b.c');
  });

  it('finds none without either, or with an empty one', () => {
    expect(connectTokenOf(event())).toBeUndefined();
    expect(connectTokenOf(event({ roomId: ['r1'] }, { Host: ['x'] }))).toBeUndefined();
    expect(connectTokenOf(event({ token: [''] }))).toBeUndefined();
    // Without the multi-value maps (a test event built by hand) the single ones still count.
    expect(connectTokenOf({ headers: { Authorization: 'Bearer z' } })).toBe('z');
  });

  it('says conflict when they disagree, in two places or repeated in one', () => {
    expect(connectTokenOf(event({ token: ['a'] }, { Authorization: ['Bearer b'] }))).toBe('conflict');
    expect(connectTokenOf(event({ token: ['a'] }, { Authorization: ['Basic a'] }))).toBe('conflict');
    expect(connectTokenOf(event({ token: [''] }, { Authorization: ['Bearer a'] }))).toBe('conflict');
    expect(connectTokenOf(event({ token: ['a', 'b'] }))).toBe('conflict');
    expect(connectTokenOf(event(undefined, { Authorization: ['Bearer a'], authorization: ['Bearer b'] }))).toBe('conflict');
  });
});
