import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { roomParams } from '#shared/schemas/common.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { historyQuery } from '#shared/schemas/messages.ts';
import { listMessages } from '#shared/domain/messages.ts';
import { getDeps, withAttachments, withCursors } from './lib/deps.ts';

/** `GET /rooms/{roomId}/messages?limit&beforeSeq|afterSeq` — members only. */
export const handler = httpHandler(async (req) => {
  const { roomId } = parseOrThrow(roomParams, req.params, 'path');
  const query = parseOrThrow(historyQuery, req.query, 'query');
  return { status: 200, body: await listMessages(getDeps(withAttachments, withCursors), req.user(), roomId, query) };
});
