import type { AttachmentDeps } from './attachments.ts';
import type { Broadcaster } from './broadcaster.ts';
import type { ConnectionStore } from './connections.ts';
import type { FanOutWorkers } from './fanout-workers.ts';
import type { MessageStore } from './messages.ts';
import type { RateLimiter, RateLimits } from './rate-limiter.ts';
import type { RoomStore, MemberLevelCopier } from './rooms.ts';
import type { TypingStore } from './typing.ts';

export interface Clock {
  now(): Date;
  /** Resolves after `ms` milliseconds (the domain's polls wait through this, never a timer of their own). */
  sleep(ms: number): Promise<void>;
}

export interface Ids {
  /** A new, time-ordered unique id. */
  newId(): string;
}

/** Limits and windows an operator may change (environment in AWS and locally). */
export interface Settings {
  maxContentLength: number;
  /** How long after sending a message may be edited, in seconds; 0 = no limit. */
  editWindowSeconds: number;
  maxReactionsPerMessage: number;
  /** Messages one search request reads at most before answering with a cursor. */
  searchScanBudget: number;
  rateLimits: RateLimits;
}

/** Everything a use-case may reach: the ports, by concept, and the runtime's clock, ids and settings. */
export interface Deps {
  rooms: RoomStore;
  messages: MessageStore;
  typing: TypingStore;
  connections: ConnectionStore;
  rateLimiter: RateLimiter;
  broadcaster: Broadcaster;
  /** Where a large fan-out is split (absent: every delivery posts by itself, as a worker does). */
  workers?: FanOutWorkers;
  clock: Clock;
  ids: Ids;
  settings: Settings;
  /** Absent where attachments are not wired (then sends with `attachmentIds` are refused). */
  attachments?: AttachmentDeps;
  /** The key page cursors are authenticated with (see domain/cursors.ts). */
  cursorKey: CursorKey;
  /** What adds members with copies of their notification preferences (the functions that add members compose it). */
  levelCopies: MemberLevelCopier;
}

/** Resolves the cursor key; the first call may fetch it, later ones reuse it. */
export type CursorKey = () => Promise<Uint8Array>;
