import * as z from 'zod/mini';
import type { ConnectionTarget, PresenceRecord } from '#shared/model.ts';
import { ENTITY } from '#shared/adapters/dynamodb/table.ts';
import { lazySchema, parseItem, type Item } from './entity.ts';
import { keys, parseConnectionEntry } from './keys.ts';

const status = /* @__PURE__ */ z.enum(['online', 'away', 'busy', 'offline']);

const schema = /* @__PURE__ */ lazySchema(() => z.object({
  userId: z.string(),
  /**
   * The open connections (`connectionEntry`s); absent when none is. Checked, not rebuilt (a zod
   * set would copy it, and bring its parser into every bundle that reads presence).
   */
  conns: z.optional(z.custom<Set<string>>((v) => v instanceof Set && [...v].every((c) => typeof c === 'string'))),
  /** The status the user chose (online, away, busy); shown while a connection is open. */
  chosen: z.optional(z.enum(['online', 'away', 'busy'])),
  /** What others were last told (`presence_changed`). */
  status: z.optional(status),
  /** The newest connection's expiry: past it, every listed connection is stale. */
  onlineUntil: z.optional(z.string()),
  lastSeenAt: z.optional(z.string()),
  displayName: z.optional(z.string()),
}));

/** A user's presence item, as stored. */
export type PresenceItem = z.infer<ReturnType<typeof schema>>;

/**
 * A user's presence: one item listing their open connections (a string set: adding or removing
 * one twice is harmless), the status they chose and the status others were last shown. Written by
 * update expressions only (connection-store.ts), so it has no `toItem`.
 */
export const presence = {
  key: (userId: string) => keys.presence(userId),
  fromItem: (item: Item): PresenceItem => parseItem(ENTITY.presence, schema(), item),
  /** What others see at `now`: offline once no connection is open (or all expired). */
  seen(p: PresenceItem, now: string): PresenceRecord {
    const online = p.conns !== undefined && p.conns.size > 0 && p.onlineUntil !== undefined && p.onlineUntil > now;
    return {
      userId: p.userId,
      status: online ? (p.chosen ?? 'online') : 'offline',
      ...(p.lastSeenAt !== undefined && { lastSeenAt: p.lastSeenAt }),
      ...(p.displayName !== undefined && { displayName: p.displayName }),
    };
  },
  /** The status others were last told of (what the item's last `presence_changed` write set). */
  shown: (p: PresenceItem): PresenceRecord => ({ userId: p.userId, status: p.status ?? 'offline', ...(p.lastSeenAt !== undefined && { lastSeenAt: p.lastSeenAt }) }),
  /**
   * The connections to post to at `now`. A lost `$disconnect` leaves an entry behind; past
   * `onlineUntil` (the newest connection's expiry) every entry is stale. Single stale entries are
   * found by their 410 and removed.
   */
  connections(p: PresenceItem, now: string): ConnectionTarget[] {
    if (!p.conns || p.onlineUntil === undefined || p.onlineUntil <= now) return [];
    return [...p.conns].map((entry) => ({ userId: p.userId, ...parseConnectionEntry(entry) }));
  },
};
