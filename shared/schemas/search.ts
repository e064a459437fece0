import * as z from 'zod/mini';
import { queryInt, roomIdSchema } from './common.ts';

export const SEARCH_LIMITS = {
  queryLength: 200,
  /** Words a query may have; each must be in a message for it to match. */
  terms: 10,
  pageDefault: 20,
  pageMax: 50,
  /** Default of the messages one request reads at most before it answers with a cursor (ENV.searchScanBudget). */
  scanBudget: 1000,
} as const;

export const searchQuery = z.strictObject({
  q: z.string().check(z.trim(), z.minLength(1), z.maxLength(SEARCH_LIMITS.queryLength)),
  roomId: z.optional(roomIdSchema),
  limit: z._default(queryInt(1, SEARCH_LIMITS.pageMax), SEARCH_LIMITS.pageDefault),
  cursor: z.optional(z.string().check(z.maxLength(512))),
});
export type SearchQuery = z.infer<typeof searchQuery>;
