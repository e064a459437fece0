import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { searchQuery } from '#shared/schemas/search.ts';
import { searchMessages } from '#shared/domain/search.ts';
import { getDeps, withAttachments, withCursors, withRateLimits } from './lib/deps.ts';

/** `GET /search?q&roomId&limit&cursor` — messages matching all words, from my rooms (or one of them) only; newest first within each room. */
export const handler = httpHandler(async (req) => {
  const query = parseOrThrow(searchQuery, req.query, 'query');
  return { status: 200, body: await searchMessages(getDeps(withAttachments, withCursors, withRateLimits), req.user(), query) };
});
