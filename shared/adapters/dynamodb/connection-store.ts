import type { ConnectionRecord, ConnectionTarget, PresenceRecord } from '#shared/model.ts';
import type { ConnectionStore } from '#shared/ports/connections.ts';
import type { Clock } from '#shared/ports/runtime.ts';
import { unlessConditionFails, type TableClient } from './client.ts';
import { connection } from './entities/connection.ts';
import type { Item } from './entities/entity.ts';
import { connectionEntry, keys } from './entities/keys.ts';
import { live } from './entities/live.ts';
import { presence, type PresenceItem } from './entities/presence.ts';
import { ENTITY, TABLE } from './table.ts';
import { PRESENCE_EVENT } from './stream-filters.ts';

/** Batch reads of presence items in flight at once for one fan-out. */
const READS_IN_FLIGHT = 10;
/** BatchGetItem's most keys a call. */
const MAX_BATCH = 100;
/** The first batch read's keys: few, so that it lands (and the first posts start) while the larger ones are still read. */
const FIRST_BATCH = 8;
/**
 * The first page of a room's live list (liveIn): a room up to this many connections in one Query;
 * a larger one starts posting to these while the rest is read (up to 1 MB a page).
 */
export const FIRST_LIVE_PAGE = 128;
/**
 * Where the ranges of a large room's live list read at once start: connection ids are base64
 * (API Gateway's, and the local emulator's), whose first characters are about evenly spread over
 * `+/0-9=A-Za-z`, so each range holds about a ninth of the connections.
 */
const LIVE_RANGE_STARTS = ['0', '8', 'G', 'O', 'W', 'e', 'm', 'u'] as const;

/**
 * The ranges of connection ids, inclusive at both ends, that cover every id from `after` on, each
 * once: one from `after` to the next start, then one from each start to the next.
 */
export function liveRanges(after: string): [from: string, to: string][] {
  const ends = (start: string | undefined) => (start === undefined ? '\u{10FFFF}' : `${String.fromCharCode(start.charCodeAt(0) - 1)}\u{10FFFF}`);
  const later = LIVE_RANGE_STARTS.filter((start) => start > after);
  return [after, ...later].map((from, i) => [from, ends(later[i])]);
}

/** Batch writes of live list entries in flight at once (25 entries each). */
const WRITES_IN_FLIGHT = 8;
/** The name of the marker saying since when rooms' live lists are kept (keys.marker). */
const LIVE_LISTS = 'live-lists';
/** The marker item: the rooms' live lists are kept since `since`. */
export const liveListsMarker = (since: string): Item => ({ ...keys.marker(LIVE_LISTS), [TABLE.entityAttribute]: ENTITY.marker, since });
/** How long a store goes on trusting that the marker is absent before reading it again. */
const MARKER_RECHECK_MS = 60_000;

/**
 * The keys of each batch read when `users` users' presence items are read (connectionsOf): a
 * first read of FIRST_BATCH keys, then reads of BatchGetItem's 100. All are in flight at once (up
 * to READS_IN_FLIGHT); a read costs DynamoDB about the same up to a few dozen keys, so a small
 * first one lands about as soon as a read of one key would, while the fewest reads carry the
 * rest (each read also costs the caller its request and its answer).
 */
export function presenceBatches(users: number): number[] {
  const sizes: number[] = [];
  for (let left = users, size = FIRST_BATCH; left > 0; left -= size, size = MAX_BATCH) sizes.push(Math.min(size, left));
  return sizes;
}

/**
 * Open connections (one item each, found by id) and the presence they make (one item per user,
 * listing their connections). A second, conditional write changes what others see and carries the
 * mark the stream filter lets through, so presence events fire on changes only.
 */
export class DynamoConnectionStore implements ConnectionStore {
  /** The marker's time once read (it never changes), or when it was last found absent. */
  private liveSince: string | undefined;
  private liveCheckedAt = Number.NEGATIVE_INFINITY;
  private liveMarked = false;

  constructor(
    private readonly table: TableClient,
    private readonly clock: Clock,
  ) {}

  async putConnection(c: ConnectionRecord, ttlSeconds: number): Promise<void> {
    await this.table.put('putConnection', { Item: connection.toItem(c, ttlSeconds) });
  }

  async deleteConnection(connectionId: string, connectedBefore?: string): Promise<ConnectionRecord | undefined> {
    const out = await unlessConditionFails(
      this.table.delete('deleteConnection', {
        Key: connection.key(connectionId),
        ...(connectedBefore && { ConditionExpression: 'connectedAt < :before', ExpressionAttributeValues: { ':before': connectedBefore } }),
        ReturnValues: 'ALL_OLD',
      }),
    );
    const old = out === false ? undefined : out.Attributes;
    return old && Object.keys(old).length > 0 ? connection.fromItem(old) : undefined;
  }

  async isStored(connectionId: string): Promise<boolean> {
    const out = await this.table.get('getConnection', { Key: connection.key(connectionId), ProjectionExpression: 'PK' });
    return out.Item !== undefined;
  }

  async connectionsOf(userIds: readonly string[], onBatch?: (connections: ConnectionTarget[]) => void): Promise<ConnectionTarget[]> {
    const keys = [...new Set(userIds)].map(presence.key);
    // Several batch reads at once, not one after another (presenceBatches).
    const batches: (typeof keys)[] = [];
    let start = 0;
    for (const size of presenceBatches(keys.length)) {
      batches.push(keys.slice(start, start + size));
      start += size;
    }
    const all: ConnectionTarget[] = [];
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(READS_IN_FLIGHT, batches.length) }, async () => {
        while (next < batches.length) {
          const items = await this.table.batchGet('connectionsOf', batches[next++]!, { consistent: false });
          const now = this.clock.now().toISOString();
          const found = items.flatMap((item: Item) => presence.connections(presence.fromItem(item), now));
          all.push(...found);
          if (found.length > 0) onBatch?.(found);
        }
      }),
    );
    return all;
  }

  async liveFirstPage(roomId: string): Promise<{ connections: ConnectionTarget[]; more: boolean }> {
    const { connections, last } = await this.firstLivePage(roomId);
    return { connections, more: last !== undefined };
  }

  private async firstLivePage(roomId: string): Promise<{ connections: ConnectionTarget[]; last?: Item }> {
    const { PK, SKPrefix } = keys.livePrefix(roomId);
    const out = await this.table.query('liveIn', {
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
      ExpressionAttributeValues: { ':pk': PK, ':sk': SKPrefix },
      Limit: FIRST_LIVE_PAGE,
    });
    return { connections: (out.Items ?? []).map(live.fromItem), ...(out.LastEvaluatedKey && { last: out.LastEvaluatedKey }) };
  }

  async liveIn(roomId: string, onPage: (connections: ConnectionTarget[]) => void): Promise<void> {
    const { PK, SKPrefix } = keys.livePrefix(roomId);
    const { connections: page, last } = await this.firstLivePage(roomId);
    if (page.length > 0) onPage(page);
    if (!last) return;
    // A large room: the rest in ranges of connection ids read at once (liveRanges), each by pages.
    await Promise.all(
      liveRanges(String(last.SK).slice(SKPrefix.length)).map(async ([from, to]) => {
        let start: Item | undefined;
        do {
          const out = await this.table.query('liveIn', {
            KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
            ExpressionAttributeValues: { ':pk': PK, ':from': SKPrefix + from, ':to': SKPrefix + to },
            ...(start && { ExclusiveStartKey: start }),
          });
          // The first range starts at the first page's last entry, which is not read twice.
          const more = (out.Items ?? []).map(live.fromItem).filter((c) => c.connectionId !== from);
          if (more.length > 0) onPage(more);
          start = out.LastEvaluatedKey;
        } while (start);
      }),
    );
  }

  async listLive(roomIds: readonly string[], connections: readonly ConnectionTarget[], expiresAt: number): Promise<void> {
    await this.writeLive('listLive', roomIds.flatMap((roomId) => connections.map((c) => ({ PutRequest: { Item: live.toItem(roomId, c, expiresAt) } }))));
  }

  async unlistLive(roomIds: readonly string[], connectionIds: readonly string[]): Promise<void> {
    await this.writeLive('unlistLive', roomIds.flatMap((roomId) => connectionIds.map((id) => ({ DeleteRequest: { Key: live.key(roomId, id) } }))));
  }

  /** Batch writes of 25, several at once: a user in many rooms is listed in all of them in a few round trips. */
  private async writeLive(op: string, requests: Parameters<TableClient['batchWrite']>[1]): Promise<void> {
    const chunks: (typeof requests)[] = [];
    for (let i = 0; i < requests.length; i += 25) chunks.push(requests.slice(i, i + 25));
    let next = 0;
    await Promise.all(
      Array.from({ length: Math.min(WRITES_IN_FLIGHT, chunks.length) }, async () => {
        while (next < chunks.length) await this.table.batchWrite(op, chunks[next++]!);
      }),
    );
  }

  async openConnectionsOf(userId: string): Promise<{ connections: ConnectionTarget[]; expiresAt?: string }> {
    const out = await this.table.get('openConnectionsOf', { Key: presence.key(userId), ConsistentRead: true });
    if (!out.Item) return { connections: [] };
    const p = presence.fromItem(out.Item);
    const connections = presence.connections(p, this.clock.now().toISOString());
    return connections.length > 0 && p.onlineUntil !== undefined ? { connections, expiresAt: p.onlineUntil } : { connections: [] };
  }

  async liveListsSince(): Promise<string | undefined> {
    if (this.liveSince !== undefined || this.clock.now().getTime() - this.liveCheckedAt < MARKER_RECHECK_MS) return this.liveSince;
    const out = await this.table.get('liveListsSince', { Key: keys.marker(LIVE_LISTS) });
    this.liveCheckedAt = this.clock.now().getTime();
    if (typeof out.Item?.since === 'string') this.liveSince = out.Item.since;
    return this.liveSince;
  }

  async markLiveListsSince(at: string): Promise<void> {
    if (this.liveMarked) return;
    // Once per store: the first listing of the first store writes it, every other put is refused.
    await unlessConditionFails(
      this.table.put('markLiveLists', { Item: liveListsMarker(at), ConditionExpression: 'attribute_not_exists(PK)' }),
    );
    this.liveMarked = true;
  }

  async connectionOpened(c: ConnectionRecord, expiresAt: string): Promise<void> {
    const entry = new Set([connectionEntry(c.connectionId, c.scopeRoomId)]);
    // The user's first connection shows them in the same write: one write for most connects, and
    // of several tabs opening at once exactly one passes the condition (one presence_changed).
    const first = await unlessConditionFails(
      this.table.update('presenceOpen', {
        Key: presence.key(c.userId),
        UpdateExpression: 'ADD conns :c SET userId = :u, displayName = :n, onlineUntil = :exp, #status = if_not_exists(chosen, :online), changedAt = :at, #et = :et, #ev = :ev',
        ConditionExpression: 'attribute_not_exists(conns)',
        ExpressionAttributeNames: { '#status': 'status', '#et': TABLE.entityAttribute, '#ev': PRESENCE_EVENT.attribute },
        ExpressionAttributeValues: { ':c': entry, ':u': c.userId, ':n': c.displayName, ':exp': expiresAt, ':online': 'online', ':at': c.connectedAt, ':et': ENTITY.presence, ':ev': PRESENCE_EVENT.changed },
      }),
    );
    if (first !== false) return;
    // Another connection is listed (or a stale one a lost `$disconnect` left): listed quietly,
    // shown only if what others see differs.
    const p = await this.presenceUpdate('presenceOpen', c.userId, 'ADD conns :c SET userId = :u, displayName = :n, onlineUntil = :exp', {
      ':c': entry,
      ':u': c.userId,
      ':n': c.displayName,
      ':exp': expiresAt,
    });
    const shown = p.chosen ?? 'online';
    if (p.status !== shown) await this.show(c.userId, shown, c.connectedAt, 'attribute_exists(conns)');
  }

  async connectionClosed(c: ConnectionTarget, at: string): Promise<void> {
    const p = await this.presenceUpdate('presenceClose', c.userId, 'DELETE conns :c SET userId = :u', {
      ':c': new Set([connectionEntry(c.connectionId, c.scopeRoomId)]),
      ':u': c.userId,
    });
    if (!p.conns && p.status !== 'offline') await this.show(c.userId, 'offline', at, 'attribute_not_exists(conns)');
  }

  async setStatus(userId: string, displayName: string, status: 'online' | 'away' | 'busy', at: string): Promise<void> {
    const p = await this.presenceUpdate('presenceSet', userId, 'SET chosen = :s, userId = :u, displayName = :n', { ':s': status, ':u': userId, ':n': displayName });
    if (p.conns && p.status !== status) await this.show(userId, status, at, 'attribute_exists(conns)');
  }

  async getPresence(userIds: string[]): Promise<PresenceRecord[]> {
    const unique = [...new Set(userIds)];
    const items = await this.table.batchGet('getPresence', unique.map(presence.key), { consistent: false });
    const found = new Map(items.map((item) => presence.fromItem(item)).map((p) => [p.userId, p]));
    const now = this.clock.now().toISOString();
    return unique.map((userId) => {
      const p = found.get(userId);
      return p ? presence.seen(p, now) : { userId, status: 'offline' };
    });
  }

  private async presenceUpdate(op: string, userId: string, expression: string, values: Item): Promise<PresenceItem> {
    const out = await this.table.update(op, {
      Key: presence.key(userId),
      UpdateExpression: `${expression}, #et = :et REMOVE #ev`,
      ExpressionAttributeNames: { '#ev': PRESENCE_EVENT.attribute, '#et': TABLE.entityAttribute },
      ExpressionAttributeValues: { ...values, ':et': ENTITY.presence },
      ReturnValues: 'ALL_NEW',
    });
    return presence.fromItem(out.Attributes ?? {});
  }

  /** What others see; skipped when a concurrent connect or close changed the connection set meanwhile. */
  private async show(userId: string, status: string, at: string, condition: string): Promise<void> {
    await unlessConditionFails(
      this.table.update('presenceShow', {
        Key: presence.key(userId),
        UpdateExpression: `SET #status = :s, changedAt = :at, #ev = :ev${status === 'offline' ? ', lastSeenAt = :at' : ''}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: { '#status': 'status', '#ev': PRESENCE_EVENT.attribute },
        ExpressionAttributeValues: { ':s': status, ':at': at, ':ev': PRESENCE_EVENT.changed },
      }),
    );
  }
}
