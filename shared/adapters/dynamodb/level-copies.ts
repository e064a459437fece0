import type { Item } from './entities/entity.ts';
import type { LevelSource } from '#shared/ports/notifications.ts';
import type { MemberLevelCopier } from '#shared/ports/rooms.ts';
import { LEVEL_COPY, member, RECEIPT_MARK } from './entities/member.ts';
import { notifyKeys, roomNotifyEntity, userPrefEntity } from './entities/notification.ts';
import { TABLE } from './table.ts';
import { unlessConditionFails, type TableClient } from './client.ts';

/**
 * The copies of notification preferences on member items (entities/member.ts, `LEVEL_COPY`): how
 * they are read from their sources, written, and kept in step.
 *
 * Why copies stay right without a lock. A preference change writes its item first (its version
 * + 1) and then copies it onto member items, each copy conditional on holding an older version,
 * so copies end at the highest version whatever order they land in. A user's level goes to the
 * member items their seats list (one consistent Query); a room preference to the one member item
 * of that room. What remains is a member item written while a change is under way: whoever
 * writes one (a join, an add, a new room, the migration) writes its seat no later, and then reads
 * the sources again, consistently, moving the copy forward if they changed. A change whose item
 * was written before that second read is seen by it; one written after it finds the seat (written
 * before the read) when it lists the user's seats, and updates the copy itself. Either way the
 * copy ends at the last change. (The same holds for a room preference: its change updates the
 * member item by key, which exists from before the second read.)
 */

/** What the copies need of a table client: the functions' TableClient, or the migration's over the SDK. */
export type CopyTable = Pick<TableClient, 'update' | 'batchGet'>;

const keyOf = (k: { PK: string; SK: string }) => `${k.PK}\n${k.SK}`;

/** No preference chosen: what a user without preference items has. */
export const NO_LEVELS: LevelSource = { user: { v: 0 }, room: { pref: {}, v: 0 } };

/**
 * The preference items of each user (and, with `withRoom`, their preference for the room): what
 * their member items get to copy. Users without items get version 0, no level.
 */
export async function levelSources(table: CopyTable, op: string, roomId: string, userIds: readonly string[], o: { consistent: boolean; withRoom: boolean }): Promise<Map<string, LevelSource>> {
  const sources = new Map<string, LevelSource>();
  if (userIds.length === 0) return sources;
  const keys = userIds.flatMap((u) => (o.withRoom ? [notifyKeys.pref(u), notifyKeys.room(u, roomId)] : [notifyKeys.pref(u)]));
  const items = await table.batchGet(op, keys, { consistent: o.consistent });
  const byKey = new Map(items.map((i) => [keyOf({ PK: String(i[TABLE.partitionKey]), SK: String(i[TABLE.sortKey]) }), i]));
  for (const u of userIds) {
    sources.set(u, {
      user: userPrefEntity.versioned(byKey.get(keyOf(notifyKeys.pref(u)))),
      room: o.withRoom ? roomNotifyEntity.versioned(byKey.get(keyOf(notifyKeys.room(u, roomId)))) : NO_LEVELS.room,
    });
  }
  return sources;
}

/**
 * A forward-only write of copies onto an existing member item: nothing when the item is gone
 * (never made again) or already holds this version or a later one. It removes the stream's
 * receipt mark (a member item written before seats may hold one): a copy is no receipt. It names
 * no attribute outside `COPY_ATTRIBUTES` and the key: IAM refuses the preference routes any other.
 */
async function copyOnto(table: CopyTable, op: string, roomId: string, userId: string, version: string, v: number, set: Record<string, unknown>, remove: string[]): Promise<boolean> {
  const names: Record<string, string> = { '#v': version };
  const values: Item = { ':v': v };
  const sets = ['#v = :v'];
  const removes: string[] = [RECEIPT_MARK];
  Object.entries(set).forEach(([name, value], i) => {
    names[`#s${i}`] = name;
    values[`:s${i}`] = value;
    sets.push(`#s${i} = :s${i}`);
  });
  remove.forEach((name, i) => {
    names[`#r${i}`] = name;
    removes.push(`#r${i}`);
  });
  const out = await unlessConditionFails(
    table.update(op, {
      Key: member.key(roomId, userId),
      UpdateExpression: `SET ${sets.join(', ')} REMOVE ${removes.join(', ')}`,
      ConditionExpression: 'attribute_exists(PK) AND (attribute_not_exists(#v) OR #v < :v)',
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    }),
  );
  return out !== false;
}

/** Copies the user's own level (at version `v`) onto their member item of the room. */
export function copyUserLevel(table: CopyTable, roomId: string, userId: string, user: LevelSource['user']): Promise<boolean> {
  const set = user.notify ? { [LEVEL_COPY.userNotify]: user.notify } : {};
  return copyOnto(table, 'copyUserLevel', roomId, userId, LEVEL_COPY.userVersion, user.v, set, user.notify ? [] : [LEVEL_COPY.userNotify]);
}

/** Copies the user's level and mute for the room (at version `v`) onto their member item of it. */
export function copyRoomPreference(table: CopyTable, roomId: string, userId: string, room: LevelSource['room']): Promise<boolean> {
  const set: Record<string, unknown> = {};
  const remove: string[] = [];
  if (room.pref.notify) set[LEVEL_COPY.roomNotify] = room.pref.notify;
  else remove.push(LEVEL_COPY.roomNotify);
  if (room.pref.mutedUntil) set[LEVEL_COPY.roomMutedUntil] = room.pref.mutedUntil;
  else remove.push(LEVEL_COPY.roomMutedUntil);
  return copyOnto(table, 'copyRoomPreference', roomId, userId, LEVEL_COPY.roomVersion, room.v, set, remove);
}

/**
 * The second read of the sources after member items (and their seats) were written with the
 * copies in `written` (absent for a user: written without copies), consistent this time, and the
 * copies moved forward where a source changed meanwhile (see above). Costs one consistent read
 * per key; writes only where something changed.
 */
export async function settleLevelCopies(table: CopyTable, roomId: string, userIds: readonly string[], written: ReadonlyMap<string, Partial<LevelSource>>, o: { withRoom: boolean }): Promise<void> {
  const now = await levelSources(table, 'levelSourcesNow', roomId, userIds, { consistent: true, withRoom: o.withRoom });
  await inParallel([...now], async ([userId, source]) => {
    const was = written.get(userId);
    if (source.user.v !== was?.user?.v) await copyUserLevel(table, roomId, userId, source.user);
    // Without `withRoom` the room part is not read again: the caller knows it cannot change (a new room).
    if (o.withRoom && source.room.v !== was?.room?.v) await copyRoomPreference(table, roomId, userId, source.room);
  });
}

/** The copier the room store writes members with (composed only by the functions that add members). */
export class DynamoLevelCopier implements MemberLevelCopier {
  constructor(private readonly table: CopyTable) {}

  sources(roomId: string, userIds: readonly string[], o: { withRoom: boolean }): Promise<ReadonlyMap<string, LevelSource>> {
    return levelSources(this.table, 'levelSources', roomId, userIds, { consistent: false, withRoom: o.withRoom });
  }

  settle(roomId: string, userIds: readonly string[], written: ReadonlyMap<string, Partial<LevelSource>>, o: { withRoom: boolean }): Promise<void> {
    return settleLevelCopies(this.table, roomId, userIds, written, o);
  }
}

/** Runs `f` over `items`, at most `limit` at a time. */
export async function inParallel<T>(items: readonly T[], f: (item: T) => Promise<unknown>, limit = 16): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await f(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}
