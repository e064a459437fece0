import type { TypingRecord } from '#shared/model.ts';

/** Who is typing in a room: short-lived indicators that expire on their own. */
export interface TypingStore {
  putTyping(t: TypingRecord): Promise<void>;
  clearTyping(roomId: string, userId: string): Promise<void>;
  listTyping(roomId: string): Promise<TypingRecord[]>;
}
