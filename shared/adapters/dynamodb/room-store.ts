import type { MemberRecord, MessageRecord, Page, PublicRoomPosition, RoomRecord } from '#shared/model.ts';
import type { MemberLevelCopier, RoomPatch, RoomStore, RoomWithLatest } from '#shared/ports/rooms.ts';
import { conflict } from '#shared/errors.ts';
import { unlessConditionFails } from './client.ts';
import { entityOf, type Item } from './entities/entity.ts';
import { keys } from './entities/keys.ts';
import { member } from './entities/member.ts';
import { seat } from './entities/seat.ts';
import { message } from './entities/message.ts';
import { room } from './entities/room.ts';
import { DynamoMembership } from './membership.ts';
import { ENTITY, TABLE } from './table.ts';
import { ROOM_EVENT } from './stream-filters.ts';

/** Rooms, their members (membership.ts), each user's rooms, settings and the public listing. */
export class DynamoRoomStore extends DynamoMembership implements RoomStore {
  async createRoom(r: RoomRecord, members: MemberRecord[], levels?: MemberLevelCopier): Promise<void> {
    // A room starts keeping the highest reacted seq from its creation (`markReacted`).
    // It also starts counting changes of its members (`memberVersion`): messages then carry it.
    const roomPut = { TableName: this.table.tableName, Item: room.toItem({ reactedSeq: 0, memberVersion: 1, ...r }), ConditionExpression: 'attribute_not_exists(PK)' };
    const userIds = members.map((m) => m.userId);
    const seatItems = members.map(seat.toItem);
    // Member items carry copies of the members' notification preferences (level-copies.ts). A
    // room that did not exist has no preferences of its members yet (they are set by members
    // only, and rooms are never deleted): only their own levels are read, and read again after.
    // A transaction holds 100 items: the room, and a member item and a seat for each member.
    if (1 + 2 * members.length <= 100) {
      const sources = levels ? await levels.sources(r.roomId, userIds, { withRoom: false }) : new Map();
      const memberItems = members.map((m) => member.toItem(m, sources.get(m.userId)));
      const puts = [...memberItems, ...seatItems].map((Item) => ({ Put: { TableName: this.table.tableName, Item } }));
      const outcome = await this.table.transact('createRoom', [{ Put: roomPut }, ...puts]);
      if (outcome !== true) throw conflict('The room already exists');
      await levels?.settle(r.roomId, userIds, sources, { withRoom: false });
      return;
    }
    const put = await unlessConditionFails(this.table.put('createRoom', { Item: roomPut.Item, ConditionExpression: roomPut.ConditionExpression }));
    if (put === false) throw conflict('The room already exists');
    // Members before seats: a call cut short between them leaves members whose seats are made on
    // their first send or receipt (getSeat), never a seat without its member. Their levels are
    // copied once the seats are there: a member item cut off before its seat has no copy of
    // them, which a change of level (it lists seats) could not keep in step, and is read as
    // items written before copies are (the preference items).
    const memberItems = members.map((m) => member.toItem(m, levels && { room: { pref: {}, v: 0 } }));
    await this.table.batchWrite('batchWrite', memberItems.map((Item) => ({ PutRequest: { Item } })));
    await this.table.batchWrite('batchWrite', seatItems.map((Item) => ({ PutRequest: { Item } })));
    // Members were written after the room: a message sent meanwhile may have had its fan-out read
    // only some of them. A new member version keeps any later message from using that read.
    await this.table.update('createRoom', { Key: room.key(r.roomId), UpdateExpression: 'ADD memberVersion :one', ExpressionAttributeValues: { ':one': 1 } });
    await levels?.settle(r.roomId, userIds, new Map(), { withRoom: false });
  }

  async getRoom(roomId: string): Promise<RoomRecord | undefined> {
    const out = await this.table.get('getRoom', { Key: room.key(roomId) });
    return out.Item ? room.fromItem(out.Item) : undefined;
  }

  async getRoomAndMember(roomId: string, userId: string, opts: { consistent?: boolean } = {}): Promise<{ room?: RoomRecord; member?: MemberRecord }> {
    const items = await this.table.batchGet('getRoomAndMember', [room.key(roomId), member.key(roomId, userId)], { consistent: opts.consistent ?? true });
    const result: { room?: RoomRecord; member?: MemberRecord } = {};
    for (const item of items) {
      if (entityOf(item) === ENTITY.room) result.room = room.fromItem(item);
      else if (entityOf(item) === ENTITY.member) result.member = member.fromItem(item);
    }
    return result;
  }

  async getRoomWithLatest(roomId: string, opts: { consistent?: boolean } = {}): Promise<RoomWithLatest> {
    const { room: r, messages } = await this.roomWithNewest('getRoomWithLatest', roomId, 1, opts.consistent ?? true);
    return r ? { room: r, ...(messages[0] && { latest: messages[0] }) } : {};
  }

  async getRoomWithNewest(roomId: string, limit: number): Promise<{ room?: RoomRecord; messages: MessageRecord[] }> {
    return this.roomWithNewest('getRoomWithNewest', roomId, limit, true);
  }

  /**
   * The room and its newest messages in one Query: `SK BETWEEN 'MSG#' AND 'ROOM'` read backwards.
   * No sort key of the partition falls between `MSG#` and `ROOM` (entities/keys.ts), so the items
   * after the room are its messages, newest first. A Query is charged on its items' summed size,
   * rounded up to 4 KB once: the room and a 1 KB message cost half a unit (one, consistent)
   * together, where a read of each costs that much apiece.
   */
  private async roomWithNewest(op: string, roomId: string, limit: number, consistent: boolean): Promise<{ room?: RoomRecord; messages: MessageRecord[] }> {
    const { PK, SK } = room.key(roomId);
    const out = await this.table.query(op, {
      KeyConditionExpression: 'PK = :pk AND SK BETWEEN :msg AND :room',
      ExpressionAttributeValues: { ':pk': PK, ':msg': keys.messagePrefix(roomId).SKPrefix, ':room': SK },
      ScanIndexForward: false,
      Limit: limit + 1,
      ConsistentRead: consistent,
    });
    const [first, ...rest] = out.Items ?? [];
    if (!first || entityOf(first) !== ENTITY.room) return { messages: [] };
    return { room: room.fromItem(first), messages: rest.filter((i) => entityOf(i) === ENTITY.message).map(message.fromItem) };
  }

  async getRoomsWithLatest(roomIds: string[]): Promise<Map<string, RoomWithLatest & { room: RoomRecord }>> {
    const found = await Promise.all(roomIds.map(async (id) => [id, await this.getRoomWithLatest(id, { consistent: false })] as const));
    return new Map(found.flatMap(([id, r]) => (r.room ? [[id, { ...r, room: r.room }] as const] : [])));
  }

  async markReacted(roomId: string, seq: number): Promise<void> {
    // Only forward, and only on rooms that keep it from their creation (a missing value fails the
    // comparison); no mark, so the stream filter wakes no consumer for it.
    await unlessConditionFails(
      this.table.update('markReacted', {
        Key: room.key(roomId),
        UpdateExpression: 'SET reactedSeq = :seq REMOVE #ev',
        ConditionExpression: 'reactedSeq < :seq',
        ExpressionAttributeNames: { '#ev': ROOM_EVENT.attribute },
        ExpressionAttributeValues: { ':seq': seq },
      }),
    );
  }

  async getRoomsWithMember(roomIds: string[], userId: string): Promise<{ room: RoomRecord; member: MemberRecord }[]> {
    const items = await this.table.batchGet('getRoomsWithMember', roomIds.flatMap((id) => [room.key(id), member.key(id, userId)]), { consistent: false });
    const rooms = new Map<string, RoomRecord>();
    const members = new Map<string, MemberRecord>();
    for (const item of items) {
      if (entityOf(item) === ENTITY.room) {
        const r = room.fromItem(item);
        rooms.set(r.roomId, r);
      } else {
        const m = member.fromItem(item);
        members.set(m.roomId, m);
      }
    }
    return roomIds.flatMap((id) => {
      const r = rooms.get(id);
      const m = members.get(id);
      return r && m ? [{ room: r, member: m }] : [];
    });
  }

  async updateRoom(roomId: string, patch: RoomPatch, at: string): Promise<RoomRecord | 'too_small' | undefined> {
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
      const current = await this.roomNow(roomId);
      if (!current) return undefined;
      const gsi = keys.publicRoomGsi1(current.createdAt, roomId);
      Object.assign(values, { ':gpk': gsi.GSI1PK, ':gsk': gsi.GSI1SK });
      sets.push('GSI1PK = :gpk', 'GSI1SK = :gsk');
    }
    const out = await unlessConditionFails(
      this.table.update('updateRoom', {
        Key: room.key(roomId),
        UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ReturnValues: 'ALL_NEW',
      }),
    );
    if (out !== false && out.Attributes) return room.fromItem(out.Attributes);
    const current = await this.roomNow(roomId);
    return !current || current.archivedAt ? undefined : 'too_small';
  }

  async archiveRoom(roomId: string, at: string): Promise<boolean> {
    const out = await unlessConditionFails(
      this.table.update('archiveRoom', {
        Key: room.key(roomId),
        UpdateExpression: 'SET archivedAt = :at, #ev = :ev REMOVE GSI1PK, GSI1SK',
        ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(archivedAt)',
        ExpressionAttributeNames: { '#ev': ROOM_EVENT.attribute },
        ExpressionAttributeValues: { ':at': at, ':ev': ROOM_EVENT.archived },
      }),
    );
    return out !== false;
  }

  async listPublic(r: RoomRecord): Promise<void> {
    const gsi = keys.publicRoomGsi1(r.createdAt, r.roomId);
    await this.table.update('listPublic', {
      Key: room.key(r.roomId),
      UpdateExpression: 'SET GSI1PK = :gpk, GSI1SK = :gsk',
      ExpressionAttributeValues: { ':gpk': gsi.GSI1PK, ':gsk': gsi.GSI1SK },
    });
  }

  async listPublicRooms(limit: number, after?: PublicRoomPosition): Promise<Page<RoomRecord, PublicRoomPosition>> {
    const out = await this.table.query('listPublicRooms', {
      IndexName: TABLE.gsi1.name,
      KeyConditionExpression: 'GSI1PK = :pk',
      ExpressionAttributeValues: { ':pk': keys.publicRoomsGsi1().GSI1PK },
      ScanIndexForward: false,
      Limit: limit,
      ...(after && { ExclusiveStartKey: { ...keys.room(after.roomId), ...keys.publicRoomGsi1(after.createdAt, after.roomId) } }),
    });
    const listed = (out.Items ?? []).map((i) => ({ roomId: String(i.roomId), listedAt: String(i[TABLE.gsi1.sortKey]) }));
    const found = listed.length > 0 ? await this.table.batchGet('getPublicRooms', listed.map((l) => room.key(l.roomId)), { consistent: false }) : [];
    const rooms = new Map(found.map((item) => room.fromItem(item)).map((r) => [r.roomId, r]));
    const items = listed.flatMap(({ roomId }) => {
      const r = rooms.get(roomId);
      return r && !r.archivedAt && r.visibility === 'public' ? [r] : [];
    });
    // The position is the last listed room's creation time and id: what its index key is made of.
    const last = listed.at(-1);
    const next = out.LastEvaluatedKey && last ? { createdAt: last.listedAt.slice(0, -(last.roomId.length + 1)), roomId: last.roomId } : undefined;
    return { items, ...(next && { cursor: next }) };
  }
}
