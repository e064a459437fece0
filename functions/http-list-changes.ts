import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { roomParams } from '#shared/schemas/common.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { changesQuery } from '#shared/schemas/messages.ts';
import { listChanges } from '#shared/domain/messages.ts';
import { getDeps, withAttachments, withCursors } from './lib/deps.ts';

/** `GET /rooms/{roomId}/changes?since=<ISO time>` — messages edited, deleted or reacted to since then. */
export const handler = httpHandler(async (req) => {
  const { roomId } = parseOrThrow(roomParams, req.params, 'path');
  const query = parseOrThrow(changesQuery, req.query, 'query');
  return { status: 200, body: await listChanges(getDeps(withAttachments, withCursors), req.user(), roomId, query) };
});
