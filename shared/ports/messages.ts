import type { ChangeRecord, MessageRecord, ReactionRecord } from '#shared/model.ts';

export type EditOutcome = 'done' | 'missing' | 'refused';

export interface MessageEdit {
  editorId: string;
  content: string;
  mentions: string[];
  at: string;
  notBefore?: string;
}

/** A room's messages, their reactions, and the catch-up log of what changed on them. */
export interface MessageStore {
  /** Atomically takes the next seq of an active room; `undefined` if the room is gone or archived. */
  nextSeq(roomId: string, at: string): Promise<number | undefined>;
  putMessage(message: MessageRecord): Promise<void>;
  getMessage(roomId: string, seq: number): Promise<MessageRecord | undefined>;
  /**
   * Newest first below `beforeSeq`, or ascending above `afterSeq`. Strongly consistent unless
   * `consistent: false`, or by default for older pages (`beforeSeq`).
   */
  listMessages(roomId: string, q: { limit: number; beforeSeq?: number; afterSeq?: number }, opts?: { consistent?: boolean }): Promise<MessageRecord[]>;
  latestMessages(roomIds: string[]): Promise<Map<string, MessageRecord>>;
  getMessages(roomId: string, seqs: number[]): Promise<MessageRecord[]>;
  /** The sender's message with this clientMessageId among the room's newest `window` messages. */
  findByClientMessageId(roomId: string, senderId: string, clientMessageId: string, window: number): Promise<MessageRecord | undefined>;
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
