import { describe, expect, it } from 'vitest';
import type * as z from 'zod/mini';
import { AppError } from '#shared/errors.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { changesQuery, historyQuery, sendMessageBody } from '#shared/schemas/messages.ts';
import { createRoomBody } from '#shared/schemas/rooms.ts';
import { addMemberBody, presenceQuery, servicePostMessageBody } from '#shared/schemas/people.ts';
import { typingFrame } from '#shared/schemas/frames.ts';
import { roomPreferencesBody } from '#shared/schemas/notifications.ts';
import { createAttachmentBody } from '#shared/schemas/attachments.ts';

/** What a client is told of a refused input: the error's code, message and each issue. */
function refusal(schema: z.ZodMiniType, input: unknown) {
  try {
    parseOrThrow(schema, input, 'body');
  } catch (err) {
    if (!(err instanceof AppError)) throw err;
    return { code: err.code, message: err.message, details: err.details };
  }
  throw new Error('accepted');
}

describe("the messages clients read of a refused input (zod's English ones, through parseOrThrow)", () => {
  it('names the field and what was wrong with it, for each kind of issue', () => {
    const cases: [z.ZodMiniType, unknown, string][] = [
      [historyQuery, { limit: '1.5' }, 'limit: Invalid input: expected int, received number'],
      [historyQuery, { limit: 'ten' }, 'limit: Invalid input: expected number, received NaN'],
      [historyQuery, { limit: '0' }, 'limit: Too small: expected number to be >=1'],
      [historyQuery, { limit: '101' }, 'limit: Too big: expected number to be <=100'],
      [historyQuery, { cursor: 'c'.repeat(1025) }, 'cursor: Too big: expected string to have <=1024 characters'],
      [historyQuery, { limit: '10', page: '2' }, 'Unrecognized key: "page"'],
      [historyQuery, { beforeSeq: '2', afterSeq: '1' }, 'use one of beforeSeq, afterSeq or cursor'],
      [changesQuery, { since: 'yesterday' }, 'since: Invalid input'],
      [sendMessageBody, { content: 5 }, 'content: Invalid input: expected string, received number'],
      [sendMessageBody, { content: ' ' }, 'content: content is required unless attachments are given'],
      [sendMessageBody, { content: 'hi', messageType: 'video' }, 'messageType: Invalid option: expected one of "text"|"image"|"file"'],
      [sendMessageBody, { content: 'hi', metadata: [1] }, 'metadata: must be a JSON object'],
      [sendMessageBody, { content: 'hi', attachmentIds: Array(11).fill('a') }, 'attachmentIds: Too big: expected array to have <=10 items'],
      [typingFrame, { type: 'typing', roomId: 'r', isTyping: 'yes' }, 'isTyping: Invalid input: expected boolean, received string'],
      [createRoomBody, { type: 'group', name: '  ' }, 'name: Too small: expected string to have >=1 characters'],
      [createRoomBody, { type: 'group', maxMembers: 2.5 }, 'maxMembers: Invalid input: expected int, received number'],
      [presenceQuery, { userIds: ',' }, 'userIds: Too small: expected array to have >=1 items'],
      [servicePostMessageBody, { type: 'text' }, 'type: text, image and file are sent by users'],
      [roomPreferencesBody, { mutedUntil: '2026-13-01' }, 'mutedUntil: Invalid ISO datetime'],
    ];
    for (const [schema, input, message] of cases) {
      expect(refusal(schema, input), JSON.stringify(input)).toMatchObject({ code: 'validation_failed', message: `Invalid body: ${message}` });
    }
  });

  it('lists every issue in details, by its path', () => {
    expect(refusal(addMemberBody, { userId: 'a b', role: 'owner' }).details).toEqual({
      issues: [
        { path: 'userId', message: 'must be 1-128 printable characters without spaces or #' },
        { path: 'role', message: 'Invalid option: expected one of "admin"|"moderator"|"member"' },
      ],
    });
    expect(refusal(createAttachmentBody, { fileName: '..', contentType: 'image/png', size: 0 }).details).toEqual({
      issues: [
        { path: 'fileName', message: 'must be a plain file name' },
        { path: 'size', message: 'Too small: expected number to be >=1' },
      ],
    });
  });

  it('gives back what it accepts with its defaults, coercions and transforms applied', () => {
    expect(parseOrThrow(historyQuery, { limit: '7' })).toEqual({ limit: 7 });
    expect(parseOrThrow(changesQuery, { since: '2026-01-01T00:00:00Z' })).toEqual({ since: { time: '2026-01-01T00:00:00Z' }, limit: 100 });
    expect(parseOrThrow(changesQuery, { since: 'abc.def' })).toEqual({ since: { cursor: 'abc.def' }, limit: 100 });
    expect(parseOrThrow(presenceQuery, { userIds: 'a, a,b' })).toEqual({ userIds: ['a', 'b'] });
    expect(parseOrThrow(servicePostMessageBody, {})).toEqual({ type: 'system', content: '' });
    expect(parseOrThrow(createAttachmentBody, { fileName: 'a.png', contentType: ' Image/PNG ', size: 3 })).toEqual({ fileName: 'a.png', contentType: 'image/png', size: 3 });
  });
});
