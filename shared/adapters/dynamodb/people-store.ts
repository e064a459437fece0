import { BatchGetCommand, PutCommand, QueryCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AddMemberOutcome } from '#shared/ports/rooms.ts';
import type { ConnectionRecord, ConnectionTarget, MemberRecord, Page, PresenceRecord, Role, RoomRecord } from '#shared/model.ts';
import type { PublicRoomPosition } from '#shared/model.ts';
import type { ConnectionStore } from '#shared/ports/connections.ts';
import type { RoomStore } from '#shared/ports/rooms.ts';
import type { RateLimiter, RateRule } from '#shared/ports/rate-limiter.ts';
import { ENTITY, PRESENCE_EVENT, ROOM_EVENT, TABLE, connectionEntry, keys } from './table.ts';
import { TableClient, cancellationCodes, errorName, recordOf, type Item } from './table-client.ts';
import { newMemberAttributes } from './items.ts';


/** The room-store methods implemented here rather than in DynamoStore. */
export type PeopleRoomMethods = 'addMember' | 'removeMember' | 'setRole' | 'updateRoom' | 'archiveRoom' | 'listPublic' | 'listPublicRooms';
/** The connection-store methods implemented here: presence. */
export type PresenceMethods = 'connectionOpened' | 'connectionClosed' | 'setStatus' | 'getPresence';

/**
 * Membership changes, public listing, presence and rate counters over the one table. Kept apart
 * from DynamoStore (messages and reads) so each file stays about one concern.
 */
export class DynamoPeopleStore
  extends TableClient
  implements Pick<RoomStore, PeopleRoomMethods>, Pick<ConnectionStore, PresenceMethods>, RateLimiter
{
  private async getRoomItem(roomId: string): Promise<RoomRecord | undefined> {
    const out = await this.run('getRoom', () => this.doc.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: [keys.room(roomId)], ConsistentRead: true } }, ReturnConsumedCapacity: 'INDEXES' })));
    const item = out.Responses?.[this.tableName]?.[0];
    return item ? recordOf<RoomRecord>(item) : undefined;
  }

  // ---- membership ----

  async addMember(m: MemberRecord): Promise<AddMemberOutcome> {
    try {
      await this.run(
        'addMember',
        () => this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.tableName,
                  Item: { ...keys.member(m.roomId, m.userId), [TABLE.entityAttribute]: ENTITY.member, ...newMemberAttributes(m), ...keys.memberGsi1(m.roomId, m.userId) },
                  ConditionExpression: 'attribute_not_exists(PK)',
                },
              },
              {
                Update: {
                  TableName: this.tableName,
                  Key: keys.room(m.roomId),
                  UpdateExpression: 'SET memberCount = memberCount + :one REMOVE roomEvent',
                  ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(archivedAt) AND #type = :group AND memberCount < maxMembers',
                  ExpressionAttributeNames: { '#type': 'type' },
                  ExpressionAttributeValues: { ':one': 1, ':group': 'group' },
                },
              },
            ],
            ReturnConsumedCapacity: 'INDEXES',
          }),
        ),
      );
      return 'added';
    } catch (err) {
      if (errorName(err) !== 'TransactionCanceledException') throw err;
      if (cancellationCodes(err)[0] === 'ConditionalCheckFailed') return 'exists';
      const room = await this.getRoomItem(m.roomId);
      if (!room || room.archivedAt || room.type !== 'group') return 'closed';
      if (room.memberCount >= room.maxMembers) return 'full';
      throw err;
    }
  }

  async removeMember(roomId: string, userId: string): Promise<boolean> {
    try {
      await this.run(
        'removeMember',
        () => this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              { Delete: { TableName: this.tableName, Key: keys.member(roomId, userId), ConditionExpression: 'attribute_exists(PK)' } },
              {
                Update: {
                  TableName: this.tableName,
                  Key: keys.room(roomId),
                  UpdateExpression: 'SET memberCount = memberCount - :one REMOVE roomEvent',
                  ConditionExpression: 'attribute_exists(PK)',
                  ExpressionAttributeValues: { ':one': 1 },
                },
              },
            ],
            ReturnConsumedCapacity: 'INDEXES',
          }),
        ),
      );
      return true;
    } catch (err) {
      if (errorName(err) === 'TransactionCanceledException') return false;
      throw err;
    }
  }

  async setRole(roomId: string, userId: string, role: Role): Promise<boolean> {
    const out = await this.conditional(
      'setRole',
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.member(roomId, userId),
        UpdateExpression: 'SET #role = :role',
        ConditionExpression: 'attribute_exists(PK)',
        ExpressionAttributeNames: { '#role': 'role' },
        ExpressionAttributeValues: { ':role': role },
        ReturnConsumedCapacity: 'INDEXES',
      }),
    );
    return out !== false;
  }

  // ---- room settings and the public listing ----

  async updateRoom(
    roomId: string,
    patch: { name?: string; description?: string; visibility?: 'private' | 'public'; maxMembers?: number },
    at: string,
  ): Promise<RoomRecord | 'too_small' | undefined> {
    const names: Record<string, string> = { '#ev': ROOM_EVENT.attribute };
    const values: Item = { ':ev': ROOM_EVENT.updated, ':at': at };
    const sets = ['#ev = :ev', 'updatedAt = :at'];
    const removes: string[] = [];
    for (const [field, value] of Object.entries(patch)) {
      if (value === undefined) continue;
      names[`#${field}`] = field;
      values[`:${field}`] = value;
      sets.push(`#${field} = :${field}`);
    }
    let condition = 'attribute_exists(PK) AND attribute_not_exists(archivedAt)';
    if (patch.maxMembers !== undefined) condition += ' AND memberCount <= :maxMembers';
    if (patch.visibility === 'private') removes.push('GSI1PK', 'GSI1SK');
    if (patch.visibility === 'public') {
      const room = await this.getRoomItem(roomId);
      if (!room) return undefined;
      const gsi = keys.publicRoomGsi1(room.createdAt, roomId);
      Object.assign(values, { ':gpk': gsi.GSI1PK, ':gsk': gsi.GSI1SK });
      sets.push('GSI1PK = :gpk', 'GSI1SK = :gsk');
    }
    const out = await this.conditional(
      'updateRoom',
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.room(roomId),
        UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
        ReturnConsumedCapacity: 'INDEXES',
      }),
    );
    if (out) return roomRecord(out);
    const room = await this.getRoomItem(roomId);
    return !room || room.archivedAt ? undefined : 'too_small';
  }

  async archiveRoom(roomId: string, at: string): Promise<boolean> {
    const out = await this.conditional(
      'archiveRoom',
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.room(roomId),
        UpdateExpression: 'SET archivedAt = :at, #ev = :ev REMOVE GSI1PK, GSI1SK',
        ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(archivedAt)',
        ExpressionAttributeNames: { '#ev': ROOM_EVENT.attribute },
        ExpressionAttributeValues: { ':at': at, ':ev': ROOM_EVENT.archived },
        ReturnConsumedCapacity: 'INDEXES',
      }),
    );
    return out !== false;
  }

  async listPublic(room: RoomRecord): Promise<void> {
    const gsi = keys.publicRoomGsi1(room.createdAt, room.roomId);
    await this.run(
      'listPublic',
      () => this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.room(room.roomId),
          UpdateExpression: 'SET GSI1PK = :gpk, GSI1SK = :gsk',
          ExpressionAttributeValues: { ':gpk': gsi.GSI1PK, ':gsk': gsi.GSI1SK },
          ReturnConsumedCapacity: 'INDEXES',
        }),
      ),
    );
  }

  async listPublicRooms(limit: number, after?: PublicRoomPosition): Promise<Page<RoomRecord, PublicRoomPosition>> {
    const out = await this.run(
      'listPublicRooms',
      () => this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: TABLE.gsi1.name,
          KeyConditionExpression: 'GSI1PK = :pk',
          ExpressionAttributeValues: { ':pk': keys.publicRoomsGsi1().GSI1PK },
          ScanIndexForward: false,
          Limit: limit,
          ...(after && { ExclusiveStartKey: { ...keys.room(after.roomId), ...keys.publicRoomGsi1(after.createdAt, after.roomId) } }),
          ReturnConsumedCapacity: 'INDEXES',
        }),
      ),
    );
    const listed = (out.Items ?? []).map((i) => ({ roomId: String(i.roomId), listedAt: String(i[TABLE.gsi1.sortKey]) }));
    const roomIds = listed.map((l) => l.roomId);
    const rooms = new Map<string, RoomRecord>();
    if (roomIds.length > 0) {
      const got = await this.run(
        'getPublicRooms',
        () => this.doc.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: roomIds.map((id) => keys.room(id)) } }, ReturnConsumedCapacity: 'INDEXES' })),
      );
      for (const item of got.Responses?.[this.tableName] ?? []) rooms.set(String(item.roomId), roomRecord(item));
    }
    const items = roomIds.flatMap((id) => {
      const r = rooms.get(id);
      return r && !r.archivedAt && r.visibility === 'public' ? [r] : [];
    });
    // The position is the last listed room's creation time and id: what its index key is made of.
    const last = listed.at(-1);
    const next = out.LastEvaluatedKey && last ? { createdAt: last.listedAt.slice(0, -(last.roomId.length + 1)), roomId: last.roomId } : undefined;
    return { items, ...(next && { cursor: next }) };
  }

  // ---- presence ----

  /**
   * Presence is one item per user: the open connection ids (a string set: adding or removing one
   * twice is harmless), the chosen status and the status others see. A second, conditional write
   * changes what others see and carries the mark the stream filter lets through, so presence
   * events fire on changes only.
   */
  async connectionOpened(c: ConnectionRecord, expiresAt: string): Promise<void> {
    const { userId } = c;
    const item = await this.presenceUpdate('presenceOpen', userId, 'ADD conns :c SET userId = :u, displayName = :n, onlineUntil = :exp', {
      ':c': new Set([connectionEntry(c.connectionId, c.scopeRoomId)]),
      ':u': userId,
      ':n': c.displayName,
      ':exp': expiresAt,
    });
    const shown = (item.chosen as string | undefined) ?? 'online';
    if (item.status !== shown) await this.show(userId, shown, c.connectedAt, 'attribute_exists(conns)');
  }

  async connectionClosed(c: ConnectionTarget, at: string): Promise<void> {
    const { userId } = c;
    const item = await this.presenceUpdate('presenceClose', userId, 'DELETE conns :c SET userId = :u', {
      ':c': new Set([connectionEntry(c.connectionId, c.scopeRoomId)]),
      ':u': userId,
    });
    if (!item.conns && item.status !== 'offline') await this.show(userId, 'offline', at, 'attribute_not_exists(conns)');
  }

  async setStatus(userId: string, displayName: string, status: 'online' | 'away' | 'busy', at: string): Promise<void> {
    const item = await this.presenceUpdate('presenceSet', userId, 'SET chosen = :s, userId = :u, displayName = :n', { ':s': status, ':u': userId, ':n': displayName });
    if (item.conns && item.status !== status) await this.show(userId, status, at, 'attribute_exists(conns)');
  }

  private async presenceUpdate(op: string, userId: string, expression: string, values: Item): Promise<Item> {
    const out = await this.run(
      op,
      () => this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.presence(userId),
          UpdateExpression: `${expression}, #et = :et REMOVE #ev`,
          ExpressionAttributeNames: { '#ev': PRESENCE_EVENT.attribute, '#et': TABLE.entityAttribute },
          ExpressionAttributeValues: { ...values, ':et': ENTITY.presence },
          ReturnValues: 'ALL_NEW',
          ReturnConsumedCapacity: 'INDEXES',
        }),
      ),
    );
    return (out.Attributes ?? {}) as Item;
  }

  /** What others see; skipped when a concurrent connect or close changed the connection set meanwhile. */
  private async show(userId: string, status: string, at: string, condition: string): Promise<void> {
    await this.conditional(
      'presenceShow',
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.presence(userId),
        UpdateExpression: `SET #status = :s, changedAt = :at, #ev = :ev${status === 'offline' ? ', lastSeenAt = :at' : ''}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: { '#status': 'status', '#ev': PRESENCE_EVENT.attribute },
        ExpressionAttributeValues: { ':s': status, ':at': at, ':ev': PRESENCE_EVENT.changed },
        ReturnConsumedCapacity: 'INDEXES',
      }),
    );
  }

  async getPresence(userIds: string[]): Promise<PresenceRecord[]> {
    const unique = [...new Set(userIds)];
    const found = new Map<string, Item>();
    for (let i = 0; i < unique.length; i += 100) {
      const out = await this.run(
        'getPresence',
        () => this.doc.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: unique.slice(i, i + 100).map((u) => keys.presence(u)) } }, ReturnConsumedCapacity: 'INDEXES' })),
      );
      for (const item of out.Responses?.[this.tableName] ?? []) found.set(String(item.userId), item);
    }
    const now = new Date().toISOString();
    return unique.map((userId) => {
      const item = found.get(userId);
      if (!item) return { userId, status: 'offline' };
      return presenceOf(item, now);
    });
  }

  // ---- rate limits ----

  async take(userId: string, kind: string, rule: RateRule): Promise<number> {
    if (rule.limit <= 0) return 0;
    const nowS = Date.now() / 1000;
    const windowStart = Math.floor(nowS / rule.windowSeconds) * rule.windowSeconds;
    const out = await this.conditional(
      'rateTake',
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.rate(userId, kind, windowStart),
        UpdateExpression: 'ADD #n :one SET #et = :et, #ttl = :ttl',
        ConditionExpression: 'attribute_not_exists(#n) OR #n < :limit',
        ExpressionAttributeNames: { '#n': 'n', '#et': TABLE.entityAttribute, '#ttl': TABLE.ttlAttribute },
        ExpressionAttributeValues: { ':one': 1, ':limit': rule.limit, ':et': ENTITY.rate, ':ttl': windowStart + rule.windowSeconds + 60 },
        ReturnConsumedCapacity: 'INDEXES',
      }),
    );
    return out === false ? Math.max(1, Math.ceil(windowStart + rule.windowSeconds - nowS)) : 0;
  }
}

/** What others see of a presence item at `now`: offline once no connection is open (or all expired). */
export function presenceOf(item: Item, now: string): PresenceRecord {
  const conns = item.conns as Set<string> | undefined;
  const online = conns !== undefined && conns.size > 0 && typeof item.onlineUntil === 'string' && item.onlineUntil > now;
  return {
    userId: String(item.userId),
    status: online ? ((item.chosen as PresenceRecord['status'] | undefined) ?? 'online') : 'offline',
    ...(typeof item.lastSeenAt === 'string' && { lastSeenAt: item.lastSeenAt }),
    ...(typeof item.displayName === 'string' && { displayName: item.displayName }),
  };
}

/** The status a presence item shows others (what its last `presence_changed` write set). */
export function shownPresence(item: Item): PresenceRecord {
  return {
    userId: String(item.userId),
    status: (item.status as PresenceRecord['status'] | undefined) ?? 'offline',
    ...(typeof item.lastSeenAt === 'string' && { lastSeenAt: item.lastSeenAt }),
  };
}

function roomRecord(item: Item): RoomRecord {
  const { roomEvent: _e, updatedAt: _u, ...room } = recordOf<RoomRecord & { roomEvent?: string; updatedAt?: string }>(item);
  return room;
}
