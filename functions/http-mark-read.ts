import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { roomParams } from '#shared/schemas/common.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { readBody } from '#shared/schemas/messages.ts';
import { markRead } from '#shared/domain/receipts.ts';
import { getDeps } from './lib/deps.ts';

/** `POST /rooms/{roomId}/read` `{messageId}` → `{lastReadSeq, unreadCount}`. */
export const handler = httpHandler(async (req) => {
  const { roomId } = parseOrThrow(roomParams, req.params, 'path');
  const { messageId } = parseOrThrow(readBody, req.body() ?? {}, 'body');
  return { status: 200, body: await markRead(getDeps(), req.user(), roomId, messageId) };
});
