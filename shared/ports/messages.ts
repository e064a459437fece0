import type { ChangeRecord, MessageRecord, ReactionRecord } from '#shared/model.ts';

export type EditOutcome = 'done' | 'missing' | 'refused';

/** A conditional insert at a seq: stored, or refused because `occupant` holds that seq. */
export type InsertOutcome = { stored: true } | { stored: false; occupant: MessageRecord };

export interface MessageEdit {
  editorId: string;
  content: string;
  mentions: string[];
  at: string;
  notBefore?: string;
}

/** A room's messages, their reactions, and the catch-up log of what changed on them. */
export interface MessageStore {
  /** The seq of the room's newest stored message (0 for none), read strongly consistent. */
  latestSeq(roomId: string): Promise<number>;
  /**
   * Stores the message only if its seq is free: the write that takes a seq is the message itself,
   * so no seq is ever taken without its message. Otherwise hands back the message holding the seq.
   */
  insertMessage(message: MessageRecord): Promise<InsertOutcome>;
  getMessage(roomId: string, seq: number): Promise<MessageRecord | undefined>;
  /**
   * Newest first below `beforeSeq`, or ascending above `afterSeq`. Strongly consistent unless
   * `consistent: false`, or by default for older pages (`beforeSeq`).
   */
  listMessages(roomId: string, q: { limit: number; beforeSeq?: number; afterSeq?: number }, opts?: { consistent?: boolean }): Promise<MessageRecord[]>;
  getMessages(roomId: string, seqs: number[]): Promise<MessageRecord[]>;
  /**
   * The sender's message with this clientMessageId at `fromSeq` or later (reading at most about
   * `limit` messages), and the last seq read.
   */
  findSent(roomId: string, senderId: string, clientMessageId: string, fromSeq: number, limit: number): Promise<{ found?: MessageRecord; lastSeq: number }>;
  /** Sets new content if the message exists, is the editor's, is not deleted and was created after `notBefore`. */
  editMessage(roomId: string, seq: number, edit: MessageEdit): Promise<EditOutcome>;
  /** Turns the message into a tombstone (keeps id and seq); `missing` if absent or already deleted. */
  deleteMessage(roomId: string, seq: number, at: string): Promise<EditOutcome>;

  /** False when this user already reacted with this emoji. */
  addReaction(r: ReactionRecord): Promise<boolean>;
  /** False when there was no such reaction. */
  removeReaction(roomId: string, seq: number, emoji: string, userId: string): Promise<boolean>;
  /** The distinct emoji already on a message. */
  reactionEmoji(roomId: string, seq: number): Promise<Set<string>>;
  countReactions(roomId: string, seq: number, emoji: string): Promise<number>;
  /** Every reaction of the messages `fromSeq`..`toSeq`. */
  reactionsBetween(roomId: string, fromSeq: number, toSeq: number): Promise<ReactionRecord[]>;

  recordChange(change: ChangeRecord, ttlSeconds: number): Promise<void>;
  /**
   * The room's changes at or after `since`, oldest first; with `after` (a change this read returned
   * before), only those after it.
   */
  changesSince(roomId: string, since: string, limit: number, after?: Pick<ChangeRecord, 'at' | 'seq' | 'kind'>): Promise<ChangeRecord[]>;
}
