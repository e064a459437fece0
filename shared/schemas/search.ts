import * as z from 'zod';
import { cursorSchema, roomIdSchema } from './common.ts';

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
  q: z.string().trim().min(1).max(SEARCH_LIMITS.queryLength),
  roomId: roomIdSchema.optional(),
  limit: z.coerce.number().int().min(1).max(SEARCH_LIMITS.pageMax).default(SEARCH_LIMITS.pageDefault),
  cursor: cursorSchema.optional(),
});
export type SearchQuery = z.infer<typeof searchQuery>;
