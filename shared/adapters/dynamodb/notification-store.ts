import type { MemberLevels, NotificationState, NotificationStore, NotifyLevel, PushSubscriptionRecord, Recipient, RoomPreference } from '#shared/ports/notifications.ts';
import { ENTITY, TABLE } from './table.ts';
import { unlessConditionFails, type TableClient } from './client.ts';
import { notifyKeys, pushSubscriptionEntity, roomNotifyEntity, userPrefEntity } from './entities/notification.ts';
import { keys } from './entities/keys.ts';
import { memberLevels } from './entities/member-levels.ts';
import type { DynamoPreferenceWriter } from './preference-writer.ts';

const keyOf = (k: { PK: string; SK: string }) => `${k.PK}\n${k.SK}`;
/** A batch read's items by their key (a batch answers in any order). */
const keyed = (items: Record<string, unknown>[]) => new Map(items.map((i) => [keyOf({ PK: String(i[TABLE.partitionKey]), SK: String(i[TABLE.sortKey]) }), i]));

/**
 * Notification preferences, per-user-and-room state and push subscriptions, in the user's
 * partition; and the copies of the preferences on the user's member items, which the events
 * consumer reads with the room's member list (level-copies.ts).
 */
export class DynamoNotificationStore implements NotificationStore {
  /**
   * `writer`: what writes preferences (and copies them onto member items), given by the functions
   * that change them; the events consumer, which only reads them, loads none of it.
   */
  constructor(
    private readonly table: TableClient,
    private readonly writer?: DynamoPreferenceWriter,
  ) {}

  private preferences(): DynamoPreferenceWriter {
    if (!this.writer) throw new Error('No preference writer composed');
    return this.writer;
  }

  async getUserPreference(userId: string): Promise<NotifyLevel | undefined> {
    return userPrefEntity.fromItem((await this.table.get('getUserPreference', { Key: notifyKeys.pref(userId) })).Item);
  }

  setUserPreference(userId: string, notify: NotifyLevel, at: string): Promise<void> {
    return this.preferences().setUserPreference(userId, notify, at);
  }

  async getRoomPreference(userId: string, roomId: string): Promise<RoomPreference> {
    return roomNotifyEntity.preference((await this.table.get('getRoomPreference', { Key: notifyKeys.room(userId, roomId) })).Item);
  }

  setRoomPreference(userId: string, roomId: string, patch: { notify?: NotifyLevel | null; mutedUntil?: string | null }, at: string): Promise<RoomPreference> {
    return this.preferences().setRoomPreference(userId, roomId, patch, at);
  }

  async memberLevels(roomId: string): Promise<MemberLevels[]> {
    const { PK, SKPrefix } = keys.memberPrefix(roomId);
    // Billed by the member items' size (a few hundred bytes each: one page of 1 MB holds thousands).
    const items = await this.table.queryAll('listMemberLevels', {
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
      ExpressionAttributeValues: { ':pk': PK, ':sk': SKPrefix },
      ProjectionExpression: memberLevels.projection,
    });
    return items.map(memberLevels.levelsOf);
  }

  async recipients(roomId: string, members: MemberLevels[]): Promise<Recipient[]> {
    // What member items have no copy of (written before copies were kept) is read from the
    // preference items: eventually consistent (half the units), as the copies are; the state
    // of those a level admits is read again, consistently (states()).
    const missing = members.flatMap((m) => [...(m.user ? [] : [notifyKeys.pref(m.userId)]), ...(m.room ? [] : [notifyKeys.room(m.userId, roomId)])]);
    const byKey = keyed(missing.length > 0 ? await this.table.batchGet('recipients', missing, { consistent: false }) : []);
    return members.map((m) => {
      const notify = m.user ? m.user.notify : userPrefEntity.fromItem(byKey.get(keyOf(notifyKeys.pref(m.userId))));
      const room = m.room ?? roomNotifyEntity.preference(byKey.get(keyOf(notifyKeys.room(m.userId, roomId))));
      return { userId: m.userId, ...(notify && { notify }), room };
    });
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
