import * as z from 'zod/mini';
import { schema } from './mini.ts';
import { cursorSchema, queryInt, roomIdSchema } from './common.ts';
import { SEARCH_LIMITS } from './limits.ts';

export { SEARCH_LIMITS };

export const searchQuery = /* @__PURE__ */ schema(() => z.strictObject({
  q: z.string().check(z.trim(), z.minLength(1), z.maxLength(SEARCH_LIMITS.queryLength)),
  roomId: z.optional(roomIdSchema),
  limit: z._default(queryInt(1, SEARCH_LIMITS.pageMax), SEARCH_LIMITS.pageDefault),
  cursor: z.optional(cursorSchema),
}));
export type SearchQuery = z.infer<typeof searchQuery>;
