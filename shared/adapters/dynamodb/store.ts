import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { conflict } from '#shared/errors.ts';
import type { ChangeRecord, ConnectionRecord, ConnectionTarget, MemberRecord, MessageRecord, Page, ReactionRecord, RoomRecord, TypingRecord } from '#shared/model.ts';
import type { ConnectionStore } from '#shared/ports/connections.ts';
import type { EditOutcome, MessageStore } from '#shared/ports/messages.ts';
import type { RoomStore, SendMark } from '#shared/ports/rooms.ts';
import type { TypingStore } from '#shared/ports/typing.ts';
import type { PeopleRoomMethods, PresenceMethods } from './people-store.ts';
import { ENTITY, READ_SOURCE, TABLE, keys, parseConnectionEntry, type EntityType } from './table.ts';
import { TableClient, epochSeconds, errorName, isConditionFailure, recordOf, type Item } from './table-client.ts';
import { memberRecord, messageItem, messageRecord, newMemberAttributes, sentName } from './items.ts';


/** One adapter over the one table, implementing every store port. */
export class DynamoStore
  extends TableClient
  implements Omit<RoomStore, PeopleRoomMethods>, MessageStore, TypingStore, Omit<ConnectionStore, PresenceMethods>
{
  private item(et: EntityType, key: Item, record: object, extra: Item = {}): Item {
    return { ...key, [TABLE.entityAttribute]: et, ...record, ...extra };
  }

  // ---- rooms and members ----

  async createRoom(room: RoomRecord, members: MemberRecord[]): Promise<void> {
    const roomPut = {
      TableName: this.tableName,
      Item: this.item(ENTITY.room, keys.room(room.roomId), room),
      ConditionExpression: 'attribute_not_exists(PK)',
    };
    const memberItems = members.map((m) => this.memberItem(m));
    try {
      if (memberItems.length < 100) {
        await this.run(
          'createRoom',
          () => this.doc.send(
            new TransactWriteCommand({
              TransactItems: [{ Put: roomPut }, ...memberItems.map((Item) => ({ Put: { TableName: this.tableName, Item } }))],
              ReturnConsumedCapacity: 'INDEXES',
            }),
          ),
        );
        return;
      }
      await this.run('createRoom', () => this.doc.send(new PutCommand({ ...roomPut, ReturnConsumedCapacity: 'INDEXES' })));
    } catch (err) {
      if (isConditionFailure(err) || errorName(err) === 'TransactionCanceledException') {
        throw conflict('The room already exists');
      }
      throw err;
    }
    for (let i = 0; i < memberItems.length; i += 25) {
      await this.batchWrite(memberItems.slice(i, i + 25));
    }
  }

  private async batchWrite(items: Item[]): Promise<void> {
    let pending: Item[] = items;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > 8) throw new Error('BatchWrite did not complete');
      if (attempt > 0) await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
      const out = await this.run(
        'batchWrite',
        () => this.doc.send(
          new BatchWriteCommand({
            RequestItems: { [this.tableName]: pending.map((Item) => ({ PutRequest: { Item } })) },
            ReturnConsumedCapacity: 'INDEXES',
          }),
        ),
      );
      pending = (out.UnprocessedItems?.[this.tableName] ?? []).map((r) => r.PutRequest?.Item as Item);
    }
  }

  private memberItem(m: MemberRecord): Item {
    return this.item(ENTITY.member, keys.member(m.roomId, m.userId), newMemberAttributes(m), keys.memberGsi1(m.roomId, m.userId));
  }

  async getRoom(roomId: string): Promise<RoomRecord | undefined> {
    const out = await this.run('getRoom', () => this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.room(roomId), ReturnConsumedCapacity: 'INDEXES' })));
    return out.Item ? recordOf<RoomRecord>(out.Item) : undefined;
  }

  async getMember(roomId: string, userId: string): Promise<MemberRecord | undefined> {
    const out = await this.run(
      'getMember',
      () => this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.member(roomId, userId), ReturnConsumedCapacity: 'INDEXES' })),
    );
    return out.Item ? memberRecord(out.Item) : undefined;
  }

  async getRoomAndMember(roomId: string, userId: string): Promise<{ room?: RoomRecord; member?: MemberRecord }> {
    const out = await this.run(
      'getRoomAndMember',
      () => this.doc.send(
        new BatchGetCommand({
          RequestItems: { [this.tableName]: { Keys: [keys.room(roomId), keys.member(roomId, userId)], ConsistentRead: true } },
          ReturnConsumedCapacity: 'INDEXES',
        }),
      ),
    );
    const result: { room?: RoomRecord; member?: MemberRecord } = {};
    for (const item of out.Responses?.[this.tableName] ?? []) {
      if (item[TABLE.entityAttribute] === ENTITY.room) result.room = recordOf<RoomRecord>(item);
      else if (item[TABLE.entityAttribute] === ENTITY.member) result.member = memberRecord(item);
    }
    // Two small keys never exceed BatchGet limits; an unprocessed key means throttling: read singly.
    if (out.UnprocessedKeys?.[this.tableName]) {
      const room = result.room ?? (await this.getRoom(roomId));
      const member = result.member ?? (await this.getMember(roomId, userId));
      return { ...(room && { room }), ...(member && { member }) };
    }
    return result;
  }

  async listMemberIds(roomId: string): Promise<string[]> {
    const { PK, SKPrefix } = keys.memberPrefix(roomId);
    const ids: string[] = [];
    let start: Item | undefined;
    do {
      const out = await this.run(
        'listMemberIds',
        () => this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
            ExpressionAttributeValues: { ':pk': PK, ':sk': SKPrefix },
            ProjectionExpression: 'SK',
            ExclusiveStartKey: start,
            ReturnConsumedCapacity: 'INDEXES',
          }),
        ),
      );
      for (const item of out.Items ?? []) ids.push(String(item.SK).slice(SKPrefix.length));
      start = out.LastEvaluatedKey;
    } while (start);
    return ids;
  }

  async listMembers(roomId: string): Promise<MemberRecord[]> {
    const { PK, SKPrefix } = keys.memberPrefix(roomId);
    return (await this.queryAll('listMembers', { KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)', ExpressionAttributeValues: { ':pk': PK, ':sk': SKPrefix } })).map(memberRecord);
  }

  async getMembers(roomId: string, userIds: string[]): Promise<MemberRecord[]> {
    const items = await this.batchGet('getMembers', [...new Set(userIds)].map((u) => keys.member(roomId, u)), true);
    return items.map(memberRecord);
  }

  async listMembershipRoomIds(userId: string, limit: number, cursor?: string): Promise<Page<string>> {
    const { GSI1PK, GSI1SKPrefix } = keys.userRoomsGsi1(userId);
    const out = await this.run(
      'listMemberships',
      () => this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: TABLE.gsi1.name,
          KeyConditionExpression: 'GSI1PK = :pk AND begins_with(GSI1SK, :sk)',
          ExpressionAttributeValues: { ':pk': GSI1PK, ':sk': GSI1SKPrefix },
          ProjectionExpression: 'roomId',
          Limit: limit,
          ...(cursor !== undefined && { ExclusiveStartKey: { ...keys.member(cursor, userId), ...keys.memberGsi1(cursor, userId) } }),
          ReturnConsumedCapacity: 'INDEXES',
        }),
      ),
    );
    const items = (out.Items ?? []).map((i) => String(i.roomId));
    const last = items.at(-1);
    return { items, ...(out.LastEvaluatedKey && last !== undefined && { cursor: last }) };
  }

  async getRoomsWithMember(roomIds: string[], userId: string): Promise<{ room: RoomRecord; member: MemberRecord }[]> {
    const items = await this.batchGet('getRoomsWithMember', roomIds.flatMap((id) => [keys.room(id), keys.member(id, userId)]), false);
    const rooms = new Map<string, RoomRecord>();
    const members = new Map<string, MemberRecord>();
    for (const item of items) {
      if (item[TABLE.entityAttribute] === ENTITY.room) rooms.set(String(item.roomId), recordOf<RoomRecord>(item));
      else members.set(String(item.roomId), memberRecord(item));
    }
    return roomIds.flatMap((id) => {
      const room = rooms.get(id);
      const member = members.get(id);
      return room && member ? [{ room, member }] : [];
    });
  }

  async markRead(roomId: string, userId: string, seq: number, messageId: string, at: string): Promise<boolean> {
    return this.applies(
      'markRead',
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.member(roomId, userId),
        UpdateExpression: 'SET lastReadSeq = :seq, lastReadMessageId = :mid, lastReadAt = :at, readSource = :src',
        ConditionExpression: 'attribute_exists(PK) AND lastReadSeq < :seq',
        ExpressionAttributeValues: { ':seq': seq, ':mid': messageId, ':at': at, ':src': READ_SOURCE.receipt },
        ReturnConsumedCapacity: 'INDEXES',
      }),
    );
  }

  async markSent(mark: SendMark): Promise<boolean> {
    const { claim } = mark;
    const names: Record<string, string> = {};
    let update = 'SET lastReadSeq = :seq, lastReadAt = :at, readSource = :src';
    let condition = 'attribute_exists(PK) AND lastReadSeq < :seq';
    let claimSet = '';
    if (claim) {
      // Each forgotten id is removed under its name and under the unprefixed name items written before used.
      names['#c'] = sentName(claim.clientMessageId);
      names['#l'] = claim.clientMessageId;
      const removes: string[] = [];
      claim.drop.forEach((id, i) => {
        names[`#d${i}`] = sentName(id);
        names[`#o${i}`] = id;
        removes.push(`sent.#d${i}`, `sent.#o${i}`);
      });
      claimSet = `sent.#c = :at${removes.length ? ` REMOVE ${removes.join(', ')}` : ''}`;
      update += `, ${claimSet}`;
      condition = 'attribute_exists(PK) AND attribute_not_exists(sent.#c) AND attribute_not_exists(sent.#l) AND lastReadSeq < :seq';
    }
    const send = (UpdateExpression: string, ConditionExpression: string, values: Item) =>
      this.applies(
        'markSent',
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.member(mark.roomId, mark.userId),
          UpdateExpression,
          ConditionExpression,
          ...(claim && { ExpressionAttributeNames: names }),
          ExpressionAttributeValues: values,
          ReturnConsumedCapacity: 'INDEXES',
        }),
      );
    if (await send(update, condition, { ':seq': mark.readSeq, ':at': mark.at, ':src': READ_SOURCE.send })) return true;
    if (!claim) return true; // the mark was already there or beyond: nothing to move
    // Refused: either the clientMessageId is claimed, or the read mark was already past `readSeq`.
    // A second write, in that rare second case only, claims without moving the mark.
    return send(
      `SET ${claimSet}`,
      'attribute_exists(PK) AND attribute_not_exists(sent.#c) AND attribute_not_exists(sent.#l) AND lastReadSeq >= :seq',
      { ':seq': mark.readSeq, ':at': mark.at },
    );
  }

  async retakeClaim(roomId: string, userId: string, clientMessageId: string, claimedAt: string, at: string): Promise<boolean> {
    // A claim written before names were prefixed moves to the prefixed name.
    return this.applies(
      'retakeClaim',
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.member(roomId, userId),
        UpdateExpression: 'SET sent.#c = :at REMOVE sent.#l',
        ConditionExpression: 'sent.#c = :was OR sent.#l = :was',
        ExpressionAttributeNames: { '#c': sentName(clientMessageId), '#l': clientMessageId },
        ExpressionAttributeValues: { ':at': at, ':was': claimedAt },
        ReturnConsumedCapacity: 'INDEXES',
      }),
    );
  }

  // ---- messages ----

  async nextSeq(roomId: string, at: string): Promise<number | undefined> {
    try {
      const out = await this.run(
        'nextSeq',
        () => this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: keys.room(roomId),
            // Removing the room-event mark keeps the stream filter from seeing a message as a room update.
            UpdateExpression: 'SET lastSeq = lastSeq + :one, lastActivityAt = :at REMOVE roomEvent',
            ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(archivedAt)',
            ExpressionAttributeValues: { ':one': 1, ':at': at },
            ReturnValues: 'UPDATED_NEW',
            ReturnConsumedCapacity: 'INDEXES',
          }),
        ),
      );
      return Number(out.Attributes?.lastSeq);
    } catch (err) {
      if (isConditionFailure(err)) return undefined;
      throw err;
    }
  }

  async putMessage(message: MessageRecord): Promise<void> {
    await this.run(
      'putMessage',
      () => this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.item(ENTITY.message, keys.message(message.roomId, message.seq), messageItem(message)),
          ConditionExpression: 'attribute_not_exists(PK)',
          ReturnConsumedCapacity: 'INDEXES',
        }),
      ),
    );
  }

  async getMessage(roomId: string, seq: number): Promise<MessageRecord | undefined> {
    const out = await this.run(
      'getMessage',
      () => this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.message(roomId, seq), ConsistentRead: true, ReturnConsumedCapacity: 'INDEXES' })),
    );
    return out.Item ? messageRecord(out.Item) : undefined;
  }

  /**
   * Strongly consistent for the newest page and for catch-up (`afterSeq`): a message just sent
   * must be there. Older pages (`beforeSeq`) read eventually consistent, at half the read units:
   * their messages were stored before the client saw the cursor's, and a change made to them in
   * the last second reaches the client as an event and through `/changes`.
   */
  async listMessages(roomId: string, q: { limit: number; beforeSeq?: number; afterSeq?: number }, opts: { consistent?: boolean } = {}): Promise<MessageRecord[]> {
    const consistent = opts.consistent ?? q.beforeSeq === undefined;
    const { PK, SKPrefix } = keys.messagePrefix(roomId);
    const ascending = q.afterSeq !== undefined;
    const condition =
      q.afterSeq !== undefined
        ? { expr: 'PK = :pk AND SK BETWEEN :from AND :to', values: { ':from': keys.message(roomId, q.afterSeq + 1).SK, ':to': `${SKPrefix}\uffff` } }
        : q.beforeSeq !== undefined
          ? { expr: 'PK = :pk AND SK BETWEEN :from AND :to', values: { ':from': SKPrefix, ':to': keys.message(roomId, q.beforeSeq - 1).SK } }
          : { expr: 'PK = :pk AND begins_with(SK, :from)', values: { ':from': SKPrefix } };
    if (q.beforeSeq !== undefined && q.beforeSeq <= 1) return [];
    const out = await this.run(
      'listMessages',
      () => this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: condition.expr,
          ExpressionAttributeValues: { ':pk': PK, ...condition.values },
          ScanIndexForward: ascending,
          Limit: q.limit,
          ConsistentRead: consistent,
          ReturnConsumedCapacity: 'INDEXES',
        }),
      ),
    );
    return (out.Items ?? []).map(messageRecord);
  }

  /** The room list's previews: eventually consistent (half the units), a preview may lag a second. */
  async latestMessages(roomIds: string[]): Promise<Map<string, MessageRecord>> {
    const pairs = await Promise.all(
      roomIds.map(async (roomId) => {
        const [latest] = await this.listMessages(roomId, { limit: 1 }, { consistent: false });
        return [roomId, latest] as const;
      }),
    );
    return new Map(pairs.filter((p): p is readonly [string, MessageRecord] => p[1] !== undefined));
  }

  async getMessages(roomId: string, seqs: number[]): Promise<MessageRecord[]> {
    const items = await this.batchGet('getMessages', [...new Set(seqs)].map((seq) => keys.message(roomId, seq)), true);
    return items.map(messageRecord).sort((a, b) => a.seq - b.seq);
  }

  async findByClientMessageId(roomId: string, senderId: string, clientMessageId: string, window: number): Promise<MessageRecord | undefined> {
    const { PK, SKPrefix } = keys.messagePrefix(roomId);
    const out = await this.run(
      'findByClientMessageId',
      () => this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
          FilterExpression: 'clientMessageId = :c AND senderId = :u',
          ExpressionAttributeValues: { ':pk': PK, ':sk': SKPrefix, ':c': clientMessageId, ':u': senderId },
          ScanIndexForward: false,
          Limit: window,
          ConsistentRead: true,
          ReturnConsumedCapacity: 'INDEXES',
        }),
      ),
    );
    const item = out.Items?.[0];
    return item ? messageRecord(item) : undefined;
  }

  async editMessage(
    roomId: string,
    seq: number,
    edit: { editorId: string; content: string; mentions: string[]; at: string; notBefore?: string },
  ): Promise<EditOutcome> {
    const applied = await this.applies(
      'editMessage',
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.message(roomId, seq),
        UpdateExpression: 'SET content = :content, mentions = :mentions, editedAt = :at',
        ConditionExpression: `attribute_exists(PK) AND senderId = :editor AND attribute_not_exists(deletedAt)${edit.notBefore ? ' AND createdAt >= :notBefore' : ''}`,
        ExpressionAttributeValues: {
          ':content': edit.content,
          ':mentions': edit.mentions,
          ':at': edit.at,
          ':editor': edit.editorId,
          ...(edit.notBefore && { ':notBefore': edit.notBefore }),
        },
        ReturnConsumedCapacity: 'INDEXES',
      }),
    );
    if (applied) return 'done';
    const current = await this.getMessage(roomId, seq);
    return current && !current.deletedAt ? 'refused' : 'missing';
  }

  async deleteMessage(roomId: string, seq: number, at: string): Promise<EditOutcome> {
    const applied = await this.applies(
      'deleteMessage',
      new UpdateCommand({
        TableName: this.tableName,
        Key: keys.message(roomId, seq),
        UpdateExpression: 'SET deletedAt = :at, content = :empty, mentions = :none REMOVE metadata, replyTo',
        ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(deletedAt)',
        ExpressionAttributeValues: { ':at': at, ':empty': '', ':none': [] },
        ReturnConsumedCapacity: 'INDEXES',
      }),
    );
    return applied ? 'done' : 'missing';
  }

  // ---- reactions ----

  async addReaction(r: ReactionRecord): Promise<boolean> {
    return this.applies(
      'addReaction',
      new PutCommand({
        TableName: this.tableName,
        Item: this.item(ENTITY.reaction, keys.reaction(r.roomId, r.seq, r.emoji, r.userId), r),
        ConditionExpression: 'attribute_not_exists(PK)',
        ReturnConsumedCapacity: 'INDEXES',
      }),
    );
  }

  async removeReaction(roomId: string, seq: number, emoji: string, userId: string): Promise<boolean> {
    return this.applies(
      'removeReaction',
      new DeleteCommand({
        TableName: this.tableName,
        Key: keys.reaction(roomId, seq, emoji, userId),
        ConditionExpression: 'attribute_exists(PK)',
        ReturnConsumedCapacity: 'INDEXES',
      }),
    );
  }

  async reactionEmoji(roomId: string, seq: number): Promise<Set<string>> {
    const { PK, SKPrefix } = keys.reactionsOfMessage(roomId, seq);
    const items = await this.queryAll('reactionEmoji', {
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
      ExpressionAttributeValues: { ':pk': PK, ':sk': SKPrefix },
      ProjectionExpression: 'emoji',
    });
    return new Set(items.map((i) => String(i.emoji)));
  }

  async countReactions(roomId: string, seq: number, emoji: string): Promise<number> {
    const { PK, SKPrefix } = keys.reactionsOfEmoji(roomId, seq, emoji);
    let count = 0;
    let start: Item | undefined;
    do {
      const out = await this.run(
        'countReactions',
        () => this.doc.send(
          new QueryCommand({
            TableName: this.tableName,
            KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
            ExpressionAttributeValues: { ':pk': PK, ':sk': SKPrefix },
            Select: 'COUNT',
            ConsistentRead: true,
            ExclusiveStartKey: start,
            ReturnConsumedCapacity: 'INDEXES',
          }),
        ),
      );
      count += out.Count ?? 0;
      start = out.LastEvaluatedKey;
    } while (start);
    return count;
  }

  async reactionsBetween(roomId: string, fromSeq: number, toSeq: number): Promise<ReactionRecord[]> {
    const { PK, from, to } = keys.reactionRange(roomId, fromSeq, toSeq);
    const items = await this.queryAll('reactionsBetween', {
      KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': PK, ':from': from, ':to': to },
    });
    return items.map((i) => recordOf<ReactionRecord>(i));
  }

  // ---- catch-up log and typing ----

  async recordChange(change: ChangeRecord, ttlSeconds: number): Promise<void> {
    await this.run(
      'recordChange',
      () => this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.item(ENTITY.change, keys.change(change.roomId, change.at, change.seq, change.kind), change, {
            [TABLE.ttlAttribute]: epochSeconds(change.at) + ttlSeconds,
          }),
          ReturnConsumedCapacity: 'INDEXES',
        }),
      ),
    );
  }

  async changesSince(roomId: string, since: string, limit: number): Promise<ChangeRecord[]> {
    const { PK, from, to } = keys.changesSince(roomId, since);
    const out = await this.run(
      'changesSince',
      () => this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
          ExpressionAttributeValues: { ':pk': PK, ':from': from, ':to': to },
          Limit: limit,
          ConsistentRead: true,
          ReturnConsumedCapacity: 'INDEXES',
        }),
      ),
    );
    return (out.Items ?? []).map((i) => recordOf<ChangeRecord>(i));
  }

  async putTyping(t: TypingRecord): Promise<void> {
    await this.run(
      'putTyping',
      () => this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.item(ENTITY.typing, keys.typing(t.roomId, t.userId), t, { [TABLE.ttlAttribute]: epochSeconds(t.until) + 1 }),
          ReturnConsumedCapacity: 'INDEXES',
        }),
      ),
    );
  }

  async clearTyping(roomId: string, userId: string): Promise<void> {
    await this.run('clearTyping', () => this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: keys.typing(roomId, userId), ReturnConsumedCapacity: 'INDEXES' })));
  }

  async listTyping(roomId: string): Promise<TypingRecord[]> {
    const { PK, SKPrefix } = keys.typingPrefix(roomId);
    const items = await this.queryAll('listTyping', {
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
      ExpressionAttributeValues: { ':pk': PK, ':sk': SKPrefix },
    });
    return items.map((i) => recordOf<TypingRecord>(i));
  }

  // ---- connections ----

  async putConnection(c: ConnectionRecord, ttlSeconds: number): Promise<void> {
    await this.run(
      'putConnection',
      () => this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.item(ENTITY.connection, keys.connection(c.connectionId), c, { [TABLE.ttlAttribute]: epochSeconds(c.connectedAt) + ttlSeconds }),
          ReturnConsumedCapacity: 'INDEXES',
        }),
      ),
    );
  }

  async deleteConnection(connectionId: string, connectedBefore?: string): Promise<ConnectionRecord | undefined> {
    const old = await this.conditional(
      'deleteConnection',
      new DeleteCommand({
        TableName: this.tableName,
        Key: keys.connection(connectionId),
        ...(connectedBefore && { ConditionExpression: 'connectedAt < :before', ExpressionAttributeValues: { ':before': connectedBefore } }),
        ReturnValues: 'ALL_OLD',
        ReturnConsumedCapacity: 'INDEXES',
      }),
    );
    return old && Object.keys(old).length > 0 ? recordOf<ConnectionRecord>(old) : undefined;
  }

  async connectionsOf(userIds: string[]): Promise<ConnectionTarget[]> {
    const now = new Date().toISOString();
    const items = await this.batchGet(
      'connectionsOf',
      [...new Set(userIds)].map((u) => keys.presence(u)),
      false,
    );
    // A lost $disconnect leaves an entry behind; past `onlineUntil` (the newest connection's
    // expiry) every entry is stale. Single stale entries are found by their 410 and removed.
    return items
      .filter((i) => typeof i.onlineUntil === 'string' && i.onlineUntil > now && i.conns instanceof Set)
      .flatMap((i) => [...(i.conns as Set<string>)].map((entry) => ({ userId: String(i.userId), ...parseConnectionEntry(entry) })));
  }
}
