import type { NotifyLevel, RoomPreference } from '#shared/ports/notifications.ts';
import type { Item } from './entities/entity.ts';
import { keys } from './entities/keys.ts';
import { notifyKeys, PREF_VERSION, roomNotifyEntity, userPrefEntity } from './entities/notification.ts';
import type { TableClient } from './client.ts';
import { copyRoomPreference, copyUserLevel, inParallel } from './level-copies.ts';
import { ENTITY, TABLE } from './table.ts';

/**
 * Changes of notification preferences: each written to its item in the user's partition (the
 * truth, its version counted) and then copied onto member items (level-copies.ts). Apart from
 * the notification store, which the events consumer loads to read: only the preference routes
 * write.
 */
export class DynamoPreferenceWriter {
  constructor(private readonly table: TableClient) {}

  /**
   * The user's level, then its copy on the member item of every room they are in, listed by their
   * seats: a consistent Query, so that a member item written before this version was read again
   * (level-copies.ts, settle) has its seat listed here.
   */
  async setUserPreference(userId: string, notify: NotifyLevel, at: string): Promise<void> {
    const { [TABLE.entityAttribute]: et, updatedAt } = userPrefEntity.toItem(userId, notify, at);
    const out = await this.table.update('setUserPreference', {
      Key: notifyKeys.pref(userId),
      UpdateExpression: 'SET #et = :et, userId = :u, notify = :n, updatedAt = :at, #v = if_not_exists(#v, :zero) + :one',
      ExpressionAttributeNames: { '#et': TABLE.entityAttribute, '#v': PREF_VERSION },
      ExpressionAttributeValues: { ':et': et, ':u': userId, ':n': notify, ':at': updatedAt, ':zero': 0, ':one': 1 },
      ReturnValues: 'ALL_NEW',
    });
    const user = userPrefEntity.versioned(out.Attributes);
    const { PK, SKPrefix } = keys.seatsOf(userId);
    let start: Item | undefined;
    do {
      const page = await this.table.query('listSeatRooms', {
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
        ExpressionAttributeValues: { ':pk': PK, ':sk': SKPrefix },
        ProjectionExpression: 'roomId',
        ConsistentRead: true,
        ...(start && { ExclusiveStartKey: start }),
      });
      await inParallel((page.Items ?? []).map((i) => String(i.roomId)), (roomId) => copyUserLevel(this.table, roomId, userId, user));
      start = page.LastEvaluatedKey;
    } while (start);
  }

  /** The user's level and mute for the room (`null` clears one), then its copy on their member item of the room. */
  async setRoomPreference(userId: string, roomId: string, patch: { notify?: NotifyLevel | null; mutedUntil?: string | null }, at: string): Promise<RoomPreference> {
    const set = ['#et = :et', 'userId = :u', 'roomId = :r', 'updatedAt = :at', '#v = if_not_exists(#v, :zero) + :one'];
    const remove: string[] = [];
    const values: Record<string, unknown> = { ':et': ENTITY.notifyRoom, ':u': userId, ':r': roomId, ':at': at, ':zero': 0, ':one': 1 };
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
      ExpressionAttributeNames: { '#et': TABLE.entityAttribute, '#v': PREF_VERSION },
      ExpressionAttributeValues: values,
      ReturnValues: 'ALL_NEW',
    });
    const room = roomNotifyEntity.versioned(out.Attributes);
    // None when the member left meanwhile: the preference stays in the user's partition for a
    // later membership, as it always did.
    await copyRoomPreference(this.table, roomId, userId, room);
    return room.pref;
  }
}
