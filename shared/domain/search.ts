import type { Deps } from '#shared/ports/runtime.ts';
import type { MessageRecord, User } from '#shared/model.ts';
import { validationFailed } from '#shared/errors.ts';
import { SEARCH_LIMITS, type SearchQuery } from '#shared/schemas/search.ts';
import { requireMembership } from './access.ts';
import { limit } from './rate-limit.ts';
import { myRoomIds } from './rooms.ts';
import { viewsOf } from './messages.ts';
import type { MessageView } from './views.ts';
import { isCount, openCursor, sealCursor } from './cursors.ts';
import { roomIdSchema } from '#shared/schemas/common.ts';

/** Messages one history query reads at a time while searching. */
const SEARCH_PAGE = 100;
/**
 * What a query takes from the budget at least, found messages or not: a user in hundreds of
 * quiet rooms gets a cursor after a bounded number of round trips (a hundred at the default
 * budget), not one request that queries every room.
 */
const QUERY_MIN_CHARGE = 10;

/**
 * Text as search compares it: compatibility-decomposed, accents dropped, lower-cased. "Café",
 * "CAFE" and "café" compare equal; so do full-width and ordinary letters. Only the combining
 * accents of Latin, Greek and Cyrillic go: the vowel signs of Indic scripts or Thai stay.
 */
export function foldText(text: string): string {
  return text.normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase();
}

/** The words of a text: runs of letters, digits and the marks that belong to them, folded. */
export function searchWords(text: string): string[] {
  return foldText(text).match(/[\p{L}\p{N}\p{M}]+/gu) ?? [];
}

/** Scripts written without spaces between words: a term in them matches anywhere in the text. */
const UNSPACED = /[\p{Script=Han}\p{Script=Hiragana}\p{Script=Katakana}\p{Script=Thai}\p{Script=Lao}\p{Script=Khmer}\p{Script=Myanmar}]/u;

/**
 * Whether a message matches every term: a term is one of its words (in its text or its files'
 * names), or, for Chinese, Japanese, Thai and the like, a part of its text. Deleted messages
 * never match.
 */
export function matchesAll(m: MessageRecord, terms: readonly string[]): boolean {
  if (m.deletedAt) return false;
  const text = [m.content, ...(m.attachments ?? []).map((a) => a.name)].join('\n');
  const words = new Set(searchWords(text));
  const folded = UNSPACED.test(text) ? foldText(text) : '';
  return terms.every((t) => words.has(t) || (UNSPACED.test(t) && folded.includes(t)));
}

interface Position {
  /** The room being searched. */
  r: string;
  /** Continue below this seq; absent: from the room's newest message. */
  b?: number;
}

function readPosition([r, b, ...rest]: readonly unknown[]): Position | undefined {
  if (rest.length > 0 || !roomIdSchema.safeParse(r).success) return undefined;
  if (b === undefined) return { r: r as string };
  return isCount(b) && b >= 1 ? { r: r as string, b } : undefined;
}

/**
 * `GET /search`: messages matching all the query's words, newest first within each room, from
 * one room (`roomId`, members only) or from every room the user belongs to (newest rooms first).
 *
 * No index is kept: a send costs nothing more. Each request reads room history newest first,
 * eventually consistent, at most `settings.searchScanBudget` messages (a query counting as at
 * least `QUERY_MIN_CHARGE`), and answers with what it found and a `nextCursor` where it stopped,
 * even when it found nothing yet; no `nextCursor` means every message was read. The cursor only
 * ever leads into rooms the user belongs to now.
 */
export async function searchMessages(deps: Deps, actor: User, q: SearchQuery): Promise<{ items: MessageView[]; nextCursor?: string }> {
  const terms = [...new Set(searchWords(q.q))];
  if (terms.length === 0) throw validationFailed('q: has no words to search for', { issues: [{ path: 'q', message: 'no letters or digits' }] });
  if (terms.length > SEARCH_LIMITS.terms) {
    throw validationFailed(`q: at most ${SEARCH_LIMITS.terms} words`, { issues: [{ path: 'q', message: `at most ${SEARCH_LIMITS.terms} words` }] });
  }
  const roomId = q.roomId;
  // A cursor belongs to the user, the words searched and the room (or all rooms) searched in.
  const scope = { list: 'search', userId: actor.userId, params: [terms.join(' '), roomId ?? null] } as const;
  const from = q.cursor ? await openCursor(deps.cursorKey, scope, q.cursor, readPosition) : undefined;
  if (roomId && from && from.r !== roomId) throw validationFailed('Invalid cursor');
  // Room ids are ULIDs: descending is newest room first, an order new messages do not shuffle.
  const toSearch = roomId
    ? requireMembership(deps, roomId, actor.userId).then(() => [roomId])
    : myRoomIds(deps, actor.userId).then((ids) => ids.sort().reverse());
  // The rate counter is written beside that first read, as a send's is: no extra round trip.
  const [rooms] = await Promise.all([toSearch, limit(deps, actor.userId, 'search')]);

  let index = from ? rooms.findIndex((r) => r <= from.r) : 0;
  if (index < 0) return { items: [] };
  let before = from && rooms[index] === from.r ? from.b : undefined;
  let budget = deps.settings.searchScanBudget;
  const hits: MessageRecord[] = [];
  let stop: Position | undefined;
  search: while (index < rooms.length) {
    const room = rooms[index]!;
    if (budget === 0) {
      stop = { r: room, ...(before !== undefined && { b: before }) };
      break;
    }
    const pageSize = Math.min(SEARCH_PAGE, budget);
    // A cursor may stop at seq 1: nothing below it to read.
    const read = before === undefined || before > 1;
    const page = read ? await deps.messages.listMessages(room, { limit: pageSize, ...(before !== undefined && { beforeSeq: before }) }, { consistent: false }) : [];
    if (read) budget = Math.max(0, budget - Math.max(page.length, QUERY_MIN_CHARGE));
    for (const m of page) {
      if (!matchesAll(m, terms)) continue;
      hits.push(m);
      if (hits.length === q.limit) {
        stop = { r: room, b: m.seq };
        break search;
      }
    }
    if (page.length === pageSize && page.at(-1)!.seq > 1) {
      before = page.at(-1)!.seq;
    } else {
      index++;
      before = undefined;
    }
  }

  // Views room by room (reactions in one range query per room), the rooms at once, in the order found.
  const byRoom = new Map<string, MessageRecord[]>();
  for (const m of hits) {
    const list = byRoom.get(m.roomId);
    if (list) list.push(m);
    else byRoom.set(m.roomId, [m]);
  }
  const views = new Map((await Promise.all([...byRoom].map(([id, records]) => viewsOf(deps, id, records, actor.userId)))).flat().map((v) => [v.id, v]));
  const items = hits.map((m) => views.get(m.id)!);
  return stop ? { items, nextCursor: await sealCursor(deps.cursorKey, scope, stop.b === undefined ? [stop.r] : [stop.r, stop.b]) } : { items };
}
