/**
 * What a store's fan-outs learned of each room's members, by the room's member version a message
 * carried (`MessageRecord.membersAt`): every change of membership raises the version first, so the
 * ids read for one message of a version serve every later message of the same version.
 *
 * Ids are kept only from a strongly consistent read, which costs twice an eventually consistent
 * one; a room's first message of a version is only noted as seen (its fan-out reads as before),
 * and the second reads consistently and keeps the ids. A room that hears one message now and then
 * thus pays what it did before this cache, and a busy one reads its members about once a `ttlMs`.
 *
 * An entry serves for `ttlMs` after its read, however often it is used: a membership changed by
 * something that does not raise the version (an operator's edit of the table) reaches the fan-out
 * within that. Bounded by the ids it holds (a note of a seen version counts as one): the room used
 * longest ago goes first, and a room larger than the bound is never kept.
 */
export class MemberIdCache {
  /** Insertion order is use order: a hit moves its room to the end. */
  private readonly rooms = new Map<string, { version: number; ids?: readonly string[]; readAt: number }>();
  private held = 0;

  constructor(
    private readonly maxIds: number,
    private readonly ttlMs: number,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /**
   * What is known of `roomId` at exactly `version`, from less than `ttlMs` ago: its ids, or that a
   * message of that version was seen (`{}`); `undefined` when nothing is.
   */
  lookup(roomId: string, version: number): { ids?: readonly string[] } | undefined {
    const entry = this.rooms.get(roomId);
    if (!entry || entry.version !== version || !this.fresh(entry)) return undefined;
    this.rooms.delete(roomId);
    this.rooms.set(roomId, entry);
    return entry.ids ? { ids: entry.ids } : {};
  }

  /**
   * Notes `version` of the room as seen, with its ids when they were read strongly consistent;
   * never over a later version still fresh (a late event of an older message must not put back
   * what a newer one replaced).
   */
  remember(roomId: string, version: number, ids?: readonly string[]): void {
    const old = this.rooms.get(roomId);
    if (old && old.version > version && this.fresh(old)) return;
    if (old) {
      this.rooms.delete(roomId);
      this.held -= weight(old.ids);
    }
    if (weight(ids) > this.maxIds) return;
    this.rooms.set(roomId, { version, ...(ids && { ids }), readAt: this.now() });
    this.held += weight(ids);
    for (const [oldest, entry] of this.rooms) {
      if (this.held <= this.maxIds) break;
      this.rooms.delete(oldest);
      this.held -= weight(entry.ids);
    }
  }

  private fresh(entry: { readAt: number }): boolean {
    return this.now() - entry.readAt < this.ttlMs;
  }
}

const weight = (ids: readonly string[] | undefined) => Math.max(1, ids?.length ?? 0);
