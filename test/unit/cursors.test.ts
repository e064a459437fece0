import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AppError } from '#shared/errors.ts';
import { isCount, isText, openCursor, sealCursor, type CursorScope } from '#shared/domain/cursors.ts';

const key = randomBytes(32);
const keyOf = () => Promise.resolve(key);
const otherKey = () => Promise.resolve(randomBytes(32));
const scope: CursorScope = { list: 'search', userId: 'ann', params: ['payment', 'room1'] };
const readPair = ([r, b, ...rest]: readonly unknown[]) => (rest.length === 0 && isText(r) && isCount(b) ? { r, b } : undefined);
const b64 = (s: string) => Buffer.from(s).toString('base64url');

async function refused(promise: Promise<unknown>): Promise<void> {
  const err = await promise.then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(AppError);
  expect((err as AppError).code).toBe('validation_failed');
  expect((err as AppError).status).toBe(400);
}

describe('cursors', () => {
  it('open to the position they were sealed with, for the same list, parameters and user', async () => {
    const cursor = await sealCursor(keyOf, scope, ['room1', 42]);
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(await openCursor(keyOf, scope, cursor, readPair)).toEqual({ r: 'room1', b: 42 });
    // Parameters compare by value: the same list asked again.
    expect(await openCursor(keyOf, { ...scope, params: ['payment', 'room1'] }, cursor, readPair)).toEqual({ r: 'room1', b: 42 });
  });

  it('hold the position as a compact tuple, not a table key', async () => {
    const cursor = await sealCursor(keyOf, { list: 'public-rooms', userId: 'ann' }, ['2026-11-29T10:00:00.000Z', 'R1']);
    const payload = Buffer.from(cursor.split('.')[0]!, 'base64url').toString();
    expect(payload).toBe('["2026-11-29T10:00:00.000Z","R1"]');
    expect(payload).not.toMatch(/PK|SK|GSI|ROOM#|PUBLIC#/);
  });

  it('refuse another user, another list, other parameters and another key', async () => {
    const cursor = await sealCursor(keyOf, scope, ['room1', 42]);
    await refused(openCursor(keyOf, { ...scope, userId: 'bo' }, cursor, readPair));
    await refused(openCursor(keyOf, { ...scope, list: 'rooms' }, cursor, readPair));
    await refused(openCursor(keyOf, { ...scope, params: ['payment', 'room2'] }, cursor, readPair));
    await refused(openCursor(keyOf, { ...scope, params: ['invoice', 'room1'] }, cursor, readPair));
    await refused(openCursor(keyOf, { ...scope, params: ['payment', null] }, cursor, readPair));
    await refused(openCursor(otherKey, scope, cursor, readPair));
  });

  it('refuse tampered, truncated, huge and hand-made cursors', async () => {
    const cursor = await sealCursor(keyOf, scope, ['room1', 42]);
    const [payload, tag] = cursor.split('.') as [string, string];
    const flip = (s: string, i: number) => s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
    const bad = [
      '',
      'x',
      cursor.slice(0, -1),
      cursor.slice(0, 10),
      `${flip(payload, 0)}.${tag}`,
      `${payload}.${flip(tag, 3)}`,
      `${b64('["room1",43]')}.${tag}`,
      payload,
      `${cursor}.${tag}`,
      'A'.repeat(100_000),
      `${'A'.repeat(5000)}.${tag}`,
      ...['null', '[]', '{}', '{"r":"room1","b":42}', '{"PK":"ROOM#room1","SK":"MSG#000000000042"}', '"room1"', '42'].flatMap((json) => [b64(json), `${b64(json)}.${tag}`]),
    ];
    for (const c of bad) await refused(openCursor(keyOf, scope, c, readPair));
  });

  it('refuse a correctly signed tuple of the wrong shape', async () => {
    for (const position of [[], ['room1'], ['room1', -1], ['room1', 1.5], ['room1', 42, 'extra'], [42, 'room1']]) {
      const cursor = await sealCursor(keyOf, scope, position);
      await refused(openCursor(keyOf, scope, cursor, readPair));
    }
    // Payloads signed as the module signs them: a tuple opens, JSON that is not a tuple does not.
    const { createHmac } = await import('node:crypto');
    const signed = (json: string) => {
      const p = b64(json);
      return `${p}.${createHmac('sha256', key).update(JSON.stringify([1, scope.list, scope.userId, scope.params, p])).digest().subarray(0, 16).toString('base64url')}`;
    };
    expect(await openCursor(keyOf, scope, signed('["room1",7]'), readPair)).toEqual({ r: 'room1', b: 7 });
    for (const json of ['null', '{}', '"x"', '{"0":"room1","1":7,"length":2}']) await refused(openCursor(keyOf, scope, signed(json), readPair));
  });
});
