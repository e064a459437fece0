import type { ConnectionRecord, ConnectionTarget, PresenceRecord } from '#shared/model.ts';

/** Open WebSocket connections and the presence they make: a user is online while one is open. */
export interface ConnectionStore {
  putConnection(c: ConnectionRecord, ttlSeconds: number): Promise<void>;
  /**
   * Forgets the connection item — with `connectedBefore`, only if it connected before then —
   * and returns what it was, if it was deleted.
   */
  deleteConnection(connectionId: string, connectedBefore?: string): Promise<ConnectionRecord | undefined>;
  /** Whether the connection's item is stored (between its `$connect` and its `$disconnect`). */
  isStored(connectionId: string): Promise<boolean>;
  /**
   * The open connections of the users, from their presence items (one batch read per 100 users);
   * nothing read for anyone else. `onBatch` hears each batch read's share as it lands, before the
   * whole answer (a fan-out posts to the first while the others are read).
   */
  connectionsOf(userIds: readonly string[], onBatch?: (connections: ConnectionTarget[]) => void): Promise<ConnectionTarget[]>;

  /**
   * The connections listed in the room's live list (live.ts of the domain), read page by page;
   * `onPage` hears each page as it lands. An eventually consistent read of the room's partition.
   */
  liveIn(roomId: string, onPage: (connections: ConnectionTarget[]) => void): Promise<void>;
  /** The first page of the room's live list (one eventually consistent Query), and whether the list holds more. */
  liveFirstPage(roomId: string): Promise<{ connections: ConnectionTarget[]; more: boolean }>;
  /** Lists each connection in each room's live list (again is harmless), until `expiresAt` (epoch seconds). */
  listLive(roomIds: readonly string[], connections: readonly ConnectionTarget[], expiresAt: number): Promise<void>;
  /** Takes the connections off the rooms' live lists (one that is not listed is no error). */
  unlistLive(roomIds: readonly string[], connectionIds: readonly string[]): Promise<void>;
  /** The user's open connections as their presence item lists them now (a strongly consistent read), and the newest one's expiry. */
  openConnectionsOf(userId: string): Promise<{ connections: ConnectionTarget[]; expiresAt?: string }>;
  /** Since when the rooms' live lists are kept (the marker's time), if they are. */
  liveListsSince(): Promise<string | undefined>;
  /** Writes the marker with `at` unless it is written already. */
  markLiveListsSince(at: string): Promise<void>;

  /** Lists an open connection on its user's presence item, which expires with it at `expiresAt`. */
  connectionOpened(c: ConnectionRecord, expiresAt: string): Promise<void>;
  connectionClosed(c: ConnectionTarget, at: string): Promise<void>;
  setStatus(userId: string, displayName: string, status: 'online' | 'away' | 'busy', at: string): Promise<void>;
  getPresence(userIds: string[]): Promise<PresenceRecord[]>;
}
