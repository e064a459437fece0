import type { ConnectionRecord, ConnectionTarget, PresenceRecord } from '#shared/model.ts';
import type { ConnectionStore } from '#shared/ports/connections.ts';
import type { Clock } from '#shared/ports/runtime.ts';
import { unlessConditionFails, type TableClient } from './client.ts';
import { connection } from './entities/connection.ts';
import type { Item } from './entities/entity.ts';
import { connectionEntry } from './entities/keys.ts';
import { presence, type PresenceItem } from './entities/presence.ts';
import { ENTITY, TABLE } from './table.ts';
import { PRESENCE_EVENT } from './stream-filters.ts';

/**
 * Open connections (one item each, found by id) and the presence they make (one item per user,
 * listing their connections). A second, conditional write changes what others see and carries the
 * mark the stream filter lets through, so presence events fire on changes only.
 */
export class DynamoConnectionStore implements ConnectionStore {
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

  async connectionsOf(userIds: string[]): Promise<ConnectionTarget[]> {
    const items = await this.table.batchGet('connectionsOf', [...new Set(userIds)].map(presence.key), { consistent: false });
    const now = this.clock.now().toISOString();
    return items.flatMap((item) => presence.connections(presence.fromItem(item), now));
  }

  async connectionOpened(c: ConnectionRecord, expiresAt: string): Promise<void> {
    const p = await this.presenceUpdate('presenceOpen', c.userId, 'ADD conns :c SET userId = :u, displayName = :n, onlineUntil = :exp', {
      ':c': new Set([connectionEntry(c.connectionId, c.scopeRoomId)]),
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
