import { createHmac, timingSafeEqual } from 'node:crypto';
import { validationFailed } from '#shared/errors.ts';
import type { CursorKey } from '#shared/ports/runtime.ts';

/**
 * Every page cursor a client sees is made here. A cursor is `<payload>.<tag>`: the payload is a
 * compact JSON tuple of the list's own position (an offset, a room id and seq, a creation time
 * and room id), never a table key; the tag is HMAC-SHA256 (first 16 bytes) over the payload and
 * what the cursor is bound to: the list, its parameters and the user. A cursor the server did not
 * make, or made for another list, other parameters or another user, opens as `validation_failed`.
 * Positions are not secret (encrypting them buys nothing here), only unforgeable.
 */
export type CursorList = 'rooms' | 'public-rooms' | 'search';

/** What a cursor is bound to. `params` are the list's parameters that define which list it is. */
export interface CursorScope {
  list: CursorList;
  userId: string;
  params?: readonly (string | number | null)[];
}


export type Position = readonly (string | number)[];

const TAG_BYTES = 16;
/** Part of what is signed: a cursor of an older format never opens as a newer one. */
const FORMAT = 1;
const SHAPE = /^([A-Za-z0-9_-]{1,1000})\.([A-Za-z0-9_-]{22})$/;

function tag(key: Uint8Array, scope: CursorScope, payload: string): Buffer {
  const signed = JSON.stringify([FORMAT, scope.list, scope.userId, scope.params ?? [], payload]);
  return createHmac('sha256', key).update(signed).digest().subarray(0, TAG_BYTES);
}

/** Seals a position of `scope`'s list into an opaque cursor. */
export async function sealCursor(key: CursorKey, scope: CursorScope, position: Position): Promise<string> {
  const payload = Buffer.from(JSON.stringify(position)).toString('base64url');
  return `${payload}.${tag(await key(), scope, payload).toString('base64url')}`;
}

/**
 * The position a cursor of `scope`'s list holds, checked by `read` (which returns `undefined`
 * for a tuple of the wrong shape). Anything else is `validation_failed`.
 */
export async function openCursor<P>(key: CursorKey, scope: CursorScope, cursor: string, read: (tuple: readonly unknown[]) => P | undefined): Promise<P> {
  const parts = SHAPE.exec(cursor);
  if (parts) {
    const [, payload, sent] = parts as unknown as [string, string, string];
    const expected = tag(await key(), scope, payload);
    const given = Buffer.from(sent, 'base64url');
    if (given.length === expected.length && timingSafeEqual(given, expected)) {
      const tuple = parseTuple(payload);
      const position = tuple && read(tuple);
      if (position !== undefined) return position;
    }
  }
  throw validationFailed('Invalid cursor: pass the nextCursor this list returned, with the same parameters', {
    issues: [{ path: 'cursor', message: 'not a cursor of this list' }],
  });
}

function parseTuple(payload: string): readonly unknown[] | undefined {
  try {
    const value: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return Array.isArray(value) ? value : undefined;
  } catch {
    return undefined;
  }
}

/** Readers of common tuple members. */
export const isCount = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;
export const isText = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= 256;
