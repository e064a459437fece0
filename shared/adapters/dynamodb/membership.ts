import type { MemberRecord, Page, Role, RoomRecord, SeatRecord } from '#shared/model.ts';
import type { AddMemberOutcome, MemberLevelCopier, SendMark } from '#shared/ports/rooms.ts';
import { unavailable } from '#shared/errors.ts';
import { MemberIdCache } from './member-id-cache.ts';
import { unlessConditionFails, type TableClient } from './client.ts';
import { STORE_RETRY } from './store-errors.ts';
import type { Item, Key } from './entities/entity.ts';
import { keys } from './entities/keys.ts';
import { member } from './entities/member.ts';
import { seat, sendWindowName, sentName } from './entities/seat.ts';
import { room } from './entities/room.ts';
import { TABLE } from './table.ts';
import { READ_SOURCE } from './stream-filters.ts';

/**
 * The first page of member ids a fan-out reads (listMemberIds with `onPage`): a room up to this
 * size, as most are, in one query; a larger one starts its presence reads after this many while
 * the rest is read.
 */
export const FIRST_MEMBER_PAGE = 128;

/** The most member ids a store keeps for fan-outs (MemberIdCache): about 5 MB of ids. */
export const CACHED_MEMBER_IDS = 100_000;
/** How long member ids read for a fan-out serve at most (MemberIdCache). */
export const CACHED_MEMBER_IDS_MS = 10 * 60_000;

/**
 * The member items of the room store: who is in a room, with which role, and the rooms a user is
 * in (GSI1); and each member's seat, in the user's own partition (role, read marks, the send's
 * window and claims), written and removed with the member item in one transaction. Apart from
 * room-store.ts, which extends it, to keep each file short.
 */
export abstract class DynamoMembership {
  private readonly memberIds = new MemberIdCache(CACHED_MEMBER_IDS, CACHED_MEMBER_IDS_MS);

  constructor(protected readonly table: TableClient) {}

  /** The room as it is now (a strongly consistent read), for telling why a write was refused. */
  protected async roomNow(roomId: string): Promise<RoomRecord | undefined> {
    const [item] = await this.table.batchGet('getRoom', [room.key(roomId)], { consistent: true });
    return item ? room.fromItem(item) : undefined;
  }

  async getMember(roomId: string, userId: string): Promise<MemberRecord | undefined> {
    const out = await this.table.get('getMember', { Key: member.key(roomId, userId) });
    return out.Item ? member.fromItem(out.Item) : undefined;
  }

  async listMemberIds(roomId: string, onPage?: (userIds: readonly string[]) => void, asOf?: number): Promise<readonly string[]> {
    // Rooms made before versions were kept (none: 0) may still change by a function of an older
    // release during a deploy, which raises no version: only a room made or changed since counts.
    const versioned = asOf !== undefined && asOf >= 1;
    const known = versioned ? this.memberIds.lookup(roomId, asOf) : undefined;
    if (known?.ids) {
      if (known.ids.length > 0) onPage?.(known.ids);
      return known.ids;
    }
    const { PK, SKPrefix } = keys.memberPrefix(roomId);
    const ids: string[] = [];
    let start: Item | undefined;
    do {
      // Read by page (1 MB), the first one of FIRST_MEMBER_PAGE when someone waits for it: its
      // lookups then start while the rest is read. A page is billed by its own size, rounded up:
      // at most half a read unit more for a room beyond the first page.
      const first = onPage !== undefined && start === undefined;
      const out = await this.table.query('listMemberIds', {
        KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
        ExpressionAttributeValues: { ':pk': PK, ':sk': SKPrefix },
        ProjectionExpression: 'SK',
        // Ids kept for a version must hold every change up to it: the message's send read the
        // version, strongly consistent, before this read began.
        ...(known && { ConsistentRead: true }),
        ...(first && { Limit: FIRST_MEMBER_PAGE }),
        ...(start && { ExclusiveStartKey: start }),
      });
      const page = (out.Items ?? []).map((item) => String(item.SK).slice(SKPrefix.length));
      ids.push(...page);
      if (page.length > 0) onPage?.(page);
      start = out.LastEvaluatedKey;
    } while (start);
    if (versioned) this.memberIds.remember(roomId, asOf, known ? ids : undefined);
    return ids;
  }

  async listMembers(roomId: string): Promise<MemberRecord[]> {
    const { PK, SKPrefix } = keys.memberPrefix(roomId);
    const items = await this.table.queryAll('listMembers', { KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)', ExpressionAttributeValues: { ':pk': PK, ':sk': SKPrefix } });
    return items.map(member.fromItem);
  }

  async getMembers(roomId: string, userIds: string[]): Promise<MemberRecord[]> {
    const items = await this.table.batchGet('getMembers', [...new Set(userIds)].map((u) => member.key(roomId, u)), { consistent: true });
    return items.map(member.fromItem);
  }

  async listMembershipRoomIds(userId: string, limit: number, cursor?: string): Promise<Page<string>> {
    const { GSI1PK, GSI1SKPrefix } = keys.userRoomsGsi1(userId);
    const out = await this.table.query('listMemberships', {
      IndexName: TABLE.gsi1.name,
      KeyConditionExpression: 'GSI1PK = :pk AND begins_with(GSI1SK, :sk)',
      ExpressionAttributeValues: { ':pk': GSI1PK, ':sk': GSI1SKPrefix },
      ProjectionExpression: 'roomId',
      Limit: limit,
      ...(cursor !== undefined && { ExclusiveStartKey: { ...keys.member(cursor, userId), ...keys.memberGsi1(cursor, userId) } }),
    });
    const items = (out.Items ?? []).map((i) => String(i.roomId));
    const last = items.at(-1);
    return { items, ...(out.LastEvaluatedKey && last !== undefined && { cursor: last }) };
  }

  async addMember(m: MemberRecord, levels?: MemberLevelCopier): Promise<AddMemberOutcome> {
    // The member item carries copies of the member's notification preferences (level-copies.ts):
    // read here, and read again once the member and seat are written. Their preference for this
    // room may be there from an earlier membership: it is kept. Without a copier, no copies (the
    // events consumer then reads the preference items, as for items written before copies).
    const sources = levels ? await levels.sources(m.roomId, [m.userId], { withRoom: true }) : new Map();
    for (let attempt = 1; ; attempt++) {
      const outcome = await this.table.transact('addMember', [
        { Put: { TableName: this.table.tableName, Item: member.toItem(m, sources.get(m.userId)), ConditionExpression: 'attribute_not_exists(PK)' } },
        // The member item's condition decides; a seat left by anything else is replaced by a fresh one.
        { Put: { TableName: this.table.tableName, Item: seat.toItem(m) } },
        {
          Update: {
            TableName: this.table.tableName,
            Key: room.key(m.roomId),
            UpdateExpression: 'SET memberCount = memberCount + :one ADD memberVersion :one REMOVE roomEvent',
            ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(archivedAt) AND #type = :group AND memberCount < maxMembers',
            ExpressionAttributeNames: { '#type': 'type' },
            ExpressionAttributeValues: { ':one': 1, ':group': 'group' },
          },
        },
      ]);
      if (outcome === true) {
        await levels?.settle(m.roomId, [m.userId], sources, { withRoom: true });
        return 'added';
      }
      if (outcome[0] === 'ConditionalCheckFailed') return 'exists';
      const current = await this.roomNow(m.roomId);
      if (!current || current.archivedAt || current.type !== 'group') return 'closed';
      if (current.memberCount >= current.maxMembers) return 'full';
      // The room refused, yet reads as open with a seat free: someone left meanwhile. Once more.
      if (attempt >= 2) throw unavailable(STORE_RETRY.retryAfterSeconds);
    }
  }

  async removeMember(roomId: string, userId: string): Promise<boolean> {
    const outcome = await this.table.transact('removeMember', [
      { Delete: { TableName: this.table.tableName, Key: member.key(roomId, userId), ConditionExpression: 'attribute_exists(PK)' } },
      // No condition: a member item written before seats may have none.
      { Delete: { TableName: this.table.tableName, Key: seat.key(roomId, userId) } },
      {
        Update: {
          TableName: this.table.tableName,
          Key: room.key(roomId),
          UpdateExpression: 'SET memberCount = memberCount - :one ADD memberVersion :one REMOVE roomEvent',
          ConditionExpression: 'attribute_exists(PK)',
          ExpressionAttributeValues: { ':one': 1 },
        },
      },
    ]);
    return outcome === true;
  }

  async setRole(roomId: string, userId: string, role: Role): Promise<boolean> {
    const roleOf = (Key: Key, more = '') => ({
      TableName: this.table.tableName,
      Key,
      UpdateExpression: `SET #role = :role${more}`,
      ConditionExpression: 'attribute_exists(PK)',
      ExpressionAttributeNames: { '#role': 'role' },
      ExpressionAttributeValues: { ':role': role },
    });
    const memberUpdate = roleOf(member.key(roomId, userId));
    // A change of role is no receipt: the stream filter passes this seat's record by.
    const outcome = await this.table.transact('setRole', [{ Update: memberUpdate }, { Update: roleOf(seat.key(roomId, userId), ' REMOVE readSource') }]);
    if (outcome === true) return true;
    if (outcome[0] === 'ConditionalCheckFailed') return false;
    // A member stored before seats has none yet: theirs will be made from the member item, role
    // included (and only from the role it holds when it is made: seatFromMember).
    const out = await unlessConditionFails(this.table.update('setRole', memberUpdate));
    return out !== false;
  }

  async markRead(roomId: string, userId: string, seq: number, messageId: string, at: string): Promise<boolean> {
    const out = await unlessConditionFails(
      this.table.update('markRead', {
        Key: seat.key(roomId, userId),
        UpdateExpression: 'SET lastReadSeq = :seq, lastReadMessageId = :mid, lastReadAt = :at, readSource = :src',
        // Behind the member's own send, a receipt tells nothing new.
        ConditionExpression: 'attribute_exists(PK) AND lastReadSeq < :seq AND (attribute_not_exists(sentSeq) OR sentSeq < :seq)',
        ExpressionAttributeValues: { ':seq': seq, ':mid': messageId, ':at': at, ':src': READ_SOURCE.receipt },
      }),
    );
    return out !== false;
  }

  async markSent(mark: SendMark): Promise<boolean> {
    const { claim, window } = mark;
    const names: Record<string, string> = {};
    const values: Item = { ':seq': mark.readSeq, ':at': mark.at, ':src': READ_SOURCE.send };
    // The send's own read mark is apart from receipts (sentSeq): concurrent sends may set it in
    // any order, and a receipt never moves it. fromItem reads the further of the two.
    const sets = ['sentSeq = :seq', 'lastReadAt = :at', 'readSource = :src'];
    const removes: string[] = [];
    const conditions = ['attribute_exists(PK)'];
    if (window) {
      names['#w'] = sendWindowName(window.start);
      Object.assign(values, { ':zero': 0, ':one': 1, ':limit': window.limit });
      sets.push('#w = if_not_exists(#w, :zero) + :one');
      conditions.push('(attribute_not_exists(#w) OR #w < :limit)');
      window.drop.forEach((start, i) => {
        names[`#ow${i}`] = sendWindowName(start);
        removes.push(`#ow${i}`);
      });
    }
    if (claim) {
      // Each forgotten id is removed under its name and under the unprefixed name items written before used.
      names['#c'] = sentName(claim.clientMessageId);
      names['#l'] = claim.clientMessageId;
      values[':from'] = claim.fromSeq;
      sets.push('sent.#c = :from');
      conditions.push('attribute_not_exists(sent.#c) AND attribute_not_exists(sent.#l)');
      claim.drop.forEach((id, i) => {
        names[`#d${i}`] = sentName(id);
        names[`#o${i}`] = id;
        removes.push(`sent.#d${i}`, `sent.#o${i}`);
      });
    }
    const out = await unlessConditionFails(
      this.table.update('markSent', {
        Key: seat.key(mark.roomId, mark.userId),
        UpdateExpression: `SET ${sets.join(', ')}${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`,
        ConditionExpression: conditions.join(' AND '),
        ...(Object.keys(names).length > 0 && { ExpressionAttributeNames: names }),
        ExpressionAttributeValues: values,
      }),
    );
    return out !== false;
  }

  async getMemberNow(roomId: string, userId: string): Promise<MemberRecord | undefined> {
    const out = await this.table.get('getMemberNow', { Key: member.key(roomId, userId), ConsistentRead: true });
    return out.Item ? member.fromItem(out.Item) : undefined;
  }

  async getSeat(roomId: string, userId: string, opts: { consistent: boolean }): Promise<SeatRecord | undefined> {
    const out = await this.table.get('getSeat', { Key: seat.key(roomId, userId), ConsistentRead: opts.consistent });
    if (out.Item) return seat.fromItem(out.Item);
    // Not seen: a seat written a moment ago (a member who joined and sends at once) is read
    // strongly before a member item is made into one.
    const now = opts.consistent ? undefined : await this.table.get('getSeatNow', { Key: seat.key(roomId, userId), ConsistentRead: true });
    return now?.Item ? seat.fromItem(now.Item) : this.seatFromMember(roomId, userId);
  }

  async getSeats(roomId: string, userIds: string[]): Promise<SeatRecord[]> {
    if (userIds.length === 0) return [];
    const items = await this.table.batchGet('getSeats', [...new Set(userIds)].map((u) => seat.key(roomId, u)), { consistent: false });
    return items.map(seat.fromItem);
  }

  async listSeats(userId: string): Promise<SeatRecord[]> {
    const { PK, SKPrefix } = keys.seatsOf(userId);
    const items = await this.table.queryAll('listSeats', { KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)', ExpressionAttributeValues: { ':pk': PK, ':sk': SKPrefix } });
    return items.map(seat.fromItem);
  }

  async seatRoomIdsNow(userId: string): Promise<string[]> {
    const { PK, SKPrefix } = keys.seatsOf(userId);
    const items = await this.table.queryAll('seatRoomIdsNow', {
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
      ExpressionAttributeValues: { ':pk': PK, ':sk': SKPrefix },
      ProjectionExpression: 'SK',
      ConsistentRead: true,
    });
    return items.map((item) => String(item.SK).slice(SKPrefix.length));
  }

  async removeSeatOf(m: MemberRecord): Promise<void> {
    // Read first: a removal made by this code took the seat with the member item, and a read
    // costs less than a refused conditional delete.
    const found = await this.table.get('getSeat', { Key: seat.key(m.roomId, m.userId) });
    if (found.Item?.joinedAt !== m.joinedAt) return;
    await unlessConditionFails(
      this.table.delete('removeSeat', { Key: seat.key(m.roomId, m.userId), ConditionExpression: 'joinedAt = :joined', ExpressionAttributeValues: { ':joined': m.joinedAt } }),
    );
  }

  /**
   * The seat of a member item written before seats, made once from what that item holds (marks,
   * claims, send windows): only while the member item read is still there, so a member removed
   * meanwhile gets none; a seat made meanwhile by another call is read instead. Undefined for a
   * non-member. Found seats never come here: this costs only the first call of such a member.
   */
  protected async seatFromMember(roomId: string, userId: string): Promise<SeatRecord | undefined> {
    for (let attempt = 1; ; attempt++) {
      const found = await this.table.get('getMemberNow', { Key: member.key(roomId, userId), ConsistentRead: true });
      if (!found.Item) return undefined;
      const item = seat.fromMemberItem(found.Item);
      const outcome = await this.table.transact('seatFromMember', [
        {
          // The member item as read: not removed (and rejoined), its role not changed meanwhile.
          ConditionCheck: {
            TableName: this.table.tableName,
            Key: member.key(roomId, userId),
            ConditionExpression: 'joinedAt = :joined AND #role = :role',
            ExpressionAttributeNames: { '#role': 'role' },
            ExpressionAttributeValues: { ':joined': found.Item.joinedAt, ':role': found.Item.role },
          },
        },
        { Put: { TableName: this.table.tableName, Item: item, ConditionExpression: 'attribute_not_exists(PK)' } },
      ]);
      if (outcome === true) return seat.fromItem(item);
      const now = await this.table.get('getSeat', { Key: seat.key(roomId, userId), ConsistentRead: true });
      if (now.Item) return seat.fromItem(now.Item);
      if (attempt >= 3) throw unavailable(STORE_RETRY.retryAfterSeconds);
    }
  }
}
