/**
 * One room's ordered stream: a watermark (`lastSeq`, the last seq handed to the app) and the
 * messages that arrived past a hole, held until the hole is filled. Pure: the client decides when
 * to fetch, this only says what is missing and what may be delivered.
 */
export class RoomStream<M extends { id: string; seq: number }> {
  lastSeq: number;
  /** Messages past the watermark, by seq. */
  readonly held = new Map<number, M>();
  /** The highest seq the server is known to have (from `GET /rooms`, a live event, a fetch). */
  known: number;
  /** When the current hole was first seen (ms), to give up on it after a while. */
  holeSince: number | undefined;

  constructor(lastSeq: number) {
    this.lastSeq = lastSeq;
    this.known = lastSeq;
  }

  /** Takes a message (live or fetched) and returns those now deliverable, in seq order. Duplicates (by seq, hence by id) are dropped. */
  accept(message: M): M[] {
    if (message.seq > this.known) this.known = message.seq;
    if (message.seq <= this.lastSeq) return [];
    this.held.set(message.seq, message);
    return this.drain();
  }

  /** The messages next in line. */
  drain(): M[] {
    const out: M[] = [];
    for (let next = this.held.get(this.lastSeq + 1); next; next = this.held.get(this.lastSeq + 1)) {
      this.held.delete(next.seq);
      this.lastSeq = next.seq;
      out.push(next);
    }
    if (this.held.size === 0 && this.known <= this.lastSeq) this.holeSince = undefined;
    return out;
  }

  /** Whether the server has messages this stream has not delivered. */
  get behind(): boolean {
    return this.known > this.lastSeq;
  }

  /**
   * Gives up on the hole before the first held message: a send that took its seq and died never
   * stores it. Returns the skipped range, then delivers what waited behind it.
   */
  skipHole(): { fromSeq: number; toSeq: number; delivered: M[] } | undefined {
    // Nothing held: the missing seqs are the newest ones the server counted.
    const first = this.held.size ? Math.min(...this.held.keys()) : this.known + 1;
    if (first <= this.lastSeq + 1) return undefined;
    const fromSeq = this.lastSeq + 1;
    this.lastSeq = first - 1;
    this.holeSince = undefined;
    return { fromSeq, toSeq: first - 1, delivered: this.drain() };
  }
}
