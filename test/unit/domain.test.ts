import { describe, expect, it } from 'vitest';
import { userFromClaims } from '#shared/domain/identity.ts';
import { messageIdFor, seqFromMessageId } from '#shared/domain/messages.ts';
import { directRoomId } from '#shared/domain/rooms.ts';
import { AppError, toPublicError } from '#shared/errors.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { createRoomBody } from '#shared/schemas/rooms.ts';
import { emojiSchema, historyQuery, sendMessageBody } from '#shared/schemas/messages.ts';
import { messageSendFrame, requestIdOf } from '#shared/schemas/frames.ts';

describe('identity from claims', () => {
  it('takes the display name from the first claim that is set', () => {
    expect(userFromClaims({ sub: 'u1', name: 'Ann', email: 'a@x' })).toEqual({ userId: 'u1', displayName: 'Ann' });
    expect(userFromClaims({ sub: 'u1', preferred_username: 'ann', email: 'a@x' }).displayName).toBe('ann');
    expect(userFromClaims({ sub: 'u1', 'cognito:username': 'ann-c', email: 'a@x' }).displayName).toBe('ann-c');
    expect(userFromClaims({ sub: 'u1', email: 'a@x' }).displayName).toBe('a@x');
    expect(userFromClaims({ sub: 'u1', name: '   ' }).displayName).toBe('u1');
  });

  it('refuses a token without a usable subject', () => {
    expect(() => userFromClaims({ name: 'Ann' })).toThrow(AppError);
    expect(() => userFromClaims({ sub: 'has space' })).toThrow(AppError);
    expect(() => userFromClaims({ sub: 'ROOM#x' })).toThrow(AppError);
    expect(() => userFromClaims(undefined)).toThrow(AppError);
  });
});

describe('message ids', () => {
  it('carry their seq, so a message is found from its id with one read', () => {
    const id = messageIdFor('01JABCDEFGHJKMNPQRSTVWXYZ0', 1234);
    expect(seqFromMessageId(id)).toBe(1234);
  });

  it('yield no seq for ids Parley did not mint', () => {
    expect(seqFromMessageId('short')).toBeUndefined();
    expect(seqFromMessageId('01JABCDEFGHJKMNPQRSTVWXYZ0')).toBeUndefined();
    expect(seqFromMessageId('01JABCDEFGHJKMNPQRSTVWXYZ0-')).toBeUndefined();
  });
});

describe('direct room ids', () => {
  it('are the same for a pair in either order and differ between pairs', () => {
    expect(directRoomId('a', 'b')).toBe(directRoomId('b', 'a'));
    expect(directRoomId('a', 'b')).not.toBe(directRoomId('a', 'c'));
    expect(directRoomId('a', 'b')).toMatch(/^[A-Za-z0-9_-]{1,64}$/);
  });
});

describe('schemas', () => {
  it('refuse a message without content or attachments, and content no frame could carry', () => {
    expect(() => parseOrThrow(sendMessageBody, {})).toThrow(AppError);
    expect(() => parseOrThrow(sendMessageBody, { content: '   ' })).toThrow(AppError);
    expect(() => parseOrThrow(sendMessageBody, { content: 'x'.repeat(32_001) })).toThrow(AppError);
    expect(parseOrThrow(sendMessageBody, { content: 'x'.repeat(4000) }).messageType).toBe('text');
  });

  it('accept exactly one RGI emoji as a reaction', () => {
    for (const ok of ['👍', '👍🏽', '👩‍💻', '🏳️‍🌈', '#️⃣', '🇫🇷', '❤️']) expect(parseOrThrow(emojiSchema, ok)).toBe(ok);
    for (const bad of ['a', '👍👍', ':)', '❤', '', '1', '👍 ']) expect(() => parseOrThrow(emojiSchema, bad)).toThrow(AppError);
  });

  it('refuse user-sent system messages, unknown fields and oversize metadata', () => {
    expect(() => parseOrThrow(sendMessageBody, { content: 'x', messageType: 'system' })).toThrow(AppError);
    expect(() => parseOrThrow(sendMessageBody, { content: 'x', admin: true })).toThrow(AppError);
    expect(() => parseOrThrow(sendMessageBody, { content: 'x', metadata: { blob: 'y'.repeat(8200) } })).toThrow(AppError);
    expect(parseOrThrow(sendMessageBody, { content: 'x', metadata: { orderId: 7 } }).metadata).toEqual({ orderId: 7 });
  });

  it('name each bad field in the error details', () => {
    try {
      parseOrThrow(messageSendFrame, { type: 'message_send', content: 'hi' }, 'frame');
      expect.unreachable();
    } catch (err) {
      expect(toPublicError(err)).toMatchObject({ code: 'validation_failed', details: { issues: [{ path: 'roomId' }] } });
    }
  });

  it('keep direct rooms nameless and public-free', () => {
    expect(() => parseOrThrow(createRoomBody, { type: 'direct', memberIds: ['b'], name: 'x' })).toThrow(AppError);
    expect(() => parseOrThrow(createRoomBody, { type: 'direct', memberIds: ['b'], visibility: 'public' })).toThrow(AppError);
    expect(() => parseOrThrow(createRoomBody, { type: 'group', memberIds: ['has space'] })).toThrow(AppError);
    expect(parseOrThrow(createRoomBody, { type: 'group', name: 'g' }).memberIds).toEqual([]);
  });

  it('bound history pages and refuse both directions at once', () => {
    expect(parseOrThrow(historyQuery, {}).limit).toBe(50);
    expect(() => parseOrThrow(historyQuery, { limit: '101' })).toThrow(AppError);
    expect(() => parseOrThrow(historyQuery, { beforeSeq: '5', afterSeq: '2' })).toThrow(AppError);
    expect(parseOrThrow(historyQuery, { afterSeq: '0', limit: '10' })).toEqual({ afterSeq: 0, limit: 10 });
  });

  it('read a requestId only when it is a short string', () => {
    expect(requestIdOf({ requestId: 'r1' })).toBe('r1');
    expect(requestIdOf({ requestId: 5 })).toBeUndefined();
    expect(requestIdOf({ requestId: 'x'.repeat(65) })).toBeUndefined();
    expect(requestIdOf(null)).toBeUndefined();
  });

  it('hide the message of unexpected errors', () => {
    expect(toPublicError(new Error('secret stack detail'))).toEqual({ code: 'internal', message: 'Internal error' });
  });
});
