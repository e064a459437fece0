import type { NotificationState, NotificationStore, NotifyLevel, PushSubscriptionRecord, Recipient, RoomPreference } from '#shared/ports/notifications.ts';
import { ENTITY, TABLE } from './table.ts';
import { unlessConditionFails, type TableClient } from './client.ts';
import { notifyKeys, pushSubscriptionEntity, roomNotifyEntity, userPrefEntity } from './entities/notification.ts';

const keyOf = (k: { PK: string; SK: string }) => `${k.PK}\n${k.SK}`;
/** A batch read's items by their key (a batch answers in any order). */
const keyed = (items: Record<string, unknown>[]) => new Map(items.map((i) => [keyOf({ PK: String(i[TABLE.partitionKey]), SK: String(i[TABLE.sortKey]) }), i]));

/** Notification preferences, per-user-and-room state and push subscriptions, in the user's partition. */
export class DynamoNotificationStore implements NotificationStore {
  constructor(private readonly table: TableClient) {}

  async getUserPreference(userId: string): Promise<NotifyLevel | undefined> {
    return userPrefEntity.fromItem((await this.table.get('getUserPreference', { Key: notifyKeys.pref(userId) })).Item);
  }

  async setUserPreference(userId: string, notify: NotifyLevel, at: string): Promise<void> {
    await this.table.put('setUserPreference', { Item: userPrefEntity.toItem(userId, notify, at) });
  }

  async getRoomPreference(userId: string, roomId: string): Promise<RoomPreference> {
    return roomNotifyEntity.preference((await this.table.get('getRoomPreference', { Key: notifyKeys.room(userId, roomId) })).Item);
  }

  async setRoomPreference(userId: string, roomId: string, patch: { notify?: NotifyLevel | null; mutedUntil?: string | null }, at: string): Promise<RoomPreference> {
    const set = ['#et = :et', 'userId = :u', 'roomId = :r', 'updatedAt = :at'];
    const remove: string[] = [];
    const values: Record<string, unknown> = { ':et': ENTITY.notifyRoom, ':u': userId, ':r': roomId, ':at': at };
    for (const field of ['notify', 'mutedUntil'] as const) {
      const value = patch[field];
      if (value === null) remove.push(field);
      else if (value !== undefined) {
        set.push(`${field} = :${field}`);
        values[`:${field}`] = value;
      }
    }
    const out = await this.table.update('setRoomPreference', {
      Key: notifyKeys.room(userId, roomId),
      UpdateExpression: `SET ${set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`,
      ExpressionAttributeNames: { '#et': TABLE.entityAttribute },
      ExpressionAttributeValues: values,
      ReturnValues: 'ALL_NEW',
    });
    return roomNotifyEntity.preference(out.Attributes);
  }

  async recipients(roomId: string, userIds: string[]): Promise<Recipient[]> {
    if (userIds.length === 0) return [];
    // Eventually consistent (half the units): most members are ruled out by their levels; the
    // state of those who are not is read again, consistently (states()).
    const byKey = keyed(await this.table.batchGet('recipients', userIds.flatMap((u) => [notifyKeys.pref(u), notifyKeys.room(u, roomId)]), { consistent: false }));
    return userIds.map((u) => roomNotifyEntity.fromItem(u, byKey.get(keyOf(notifyKeys.pref(u))), byKey.get(keyOf(notifyKeys.room(u, roomId)))));
  }

  async states(roomId: string, userIds: string[]): Promise<Map<string, NotificationState>> {
    const states = new Map<string, NotificationState>();
    if (userIds.length === 0) return states;
    const byKey = keyed(await this.table.batchGet('notificationStates', userIds.map((u) => notifyKeys.room(u, roomId)), { consistent: true }));
    for (const u of userIds) {
      const state = roomNotifyEntity.state(byKey.get(keyOf(notifyKeys.room(u, roomId))));
      if (state) states.set(u, state);
    }
    return states;
  }

  async commit(userId: string, roomId: string, seq: number, sent: boolean, at: string): Promise<boolean> {
    const written = await unlessConditionFails(
      this.table.update('commitNotification', {
        Key: notifyKeys.room(userId, roomId),
        UpdateExpression: sent
          ? 'SET #et = :et, userId = :u, roomId = :r, lastSeq = :seq, sentAt = :at, pending = :zero'
          : 'SET #et = :et, userId = :u, roomId = :r, lastSeq = :seq ADD pending :one',
        ConditionExpression: 'attribute_not_exists(lastSeq) OR lastSeq < :seq',
        ExpressionAttributeNames: { '#et': TABLE.entityAttribute },
        ExpressionAttributeValues: { ':et': ENTITY.notifyRoom, ':u': userId, ':r': roomId, ':seq': seq, ...(sent ? { ':at': at, ':zero': 0 } : { ':one': 1 }) },
      }),
    );
    return written !== false;
  }

  async putSubscription(sub: PushSubscriptionRecord, maxPerUser: number): Promise<void> {
    const existing = await this.listSubscriptions(sub.userId);
    if (!existing.some((s) => s.endpoint === sub.endpoint) && existing.length >= maxPerUser) {
      // The oldest device gives way: a user who keeps reinstalling must not grow the list.
      const oldest = existing.sort((a, b) => a.createdAt.localeCompare(b.createdAt)).slice(0, existing.length - maxPerUser + 1);
      for (const s of oldest) await this.deleteSubscription(s.userId, s.endpoint);
    }
    await this.table.put('putSubscription', { Item: pushSubscriptionEntity.toItem(sub) });
  }

  async deleteSubscription(userId: string, endpoint: string): Promise<boolean> {
    const out = await this.table.delete('deleteSubscription', { Key: notifyKeys.push(userId, endpoint), ReturnValues: 'ALL_OLD' });
    return out.Attributes !== undefined;
  }

  async listSubscriptions(userId: string): Promise<PushSubscriptionRecord[]> {
    const { PK, SKPrefix } = notifyKeys.pushPrefix(userId);
    const items = await this.table.queryAll('listSubscriptions', {
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
      ExpressionAttributeValues: { ':pk': PK, ':sk': SKPrefix },
    });
    return items.map((i) => pushSubscriptionEntity.fromItem(i));
  }
}
