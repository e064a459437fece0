import { ConditionalCheckFailedException, type ConsumedCapacity, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  BatchWriteCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { conflict } from '../../errors.ts';
import type {
  ConnectionRecord,
  ConnectionStore,
  MemberRecord,
  MessageRecord,
  MessageStore,
  Page,
  RoomRecord,
  RoomStore,
  SendClaim,
} from '../../ports.ts';
import { ENTITY, TABLE, keys, type EntityType } from './table.ts';

/** Receives the capacity every call consumed (`ReturnConsumedCapacity: INDEXES`): benchmarks add it up. */
export type CapacityMeter = (operation: string, consumed: ConsumedCapacity[]) => void;

type Item = Record<string, unknown>;
const INTERNAL = new Set<string>([TABLE.partitionKey, TABLE.sortKey, TABLE.gsi1.partitionKey, TABLE.gsi1.sortKey, TABLE.entityAttribute, TABLE.ttlAttribute]);

/** An item without its keys and bookkeeping attributes: the record the domain knows. */
export function recordOf<T>(item: Item): T {
  const out: Item = {};
  for (const [k, v] of Object.entries(item)) if (!INTERNAL.has(k)) out[k] = v;
  return out as T;
}

const epochSeconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);
const isConditionFailure = (err: unknown) =>
  err instanceof ConditionalCheckFailedException || (err as { name?: string }).name === 'ConditionalCheckFailedException';

function encodeCursor(key: Item | undefined): string | undefined {
  return key ? Buffer.from(JSON.stringify(key)).toString('base64url') : undefined;
}
function decodeCursor(cursor: string | undefined): Item | undefined {
  if (!cursor) return undefined;
  try {
    return JSON.parse(Buffer.from(cursor, 'base64url').toString()) as Item;
  } catch {
    return undefined;
  }
}

/** One adapter over the one table, implementing every store port. */
export class DynamoStore implements RoomStore, MessageStore, ConnectionStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    client: DynamoDBClient,
    private readonly tableName: string,
    private readonly meter: CapacityMeter = () => undefined,
  ) {
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  private async run<T extends { ConsumedCapacity?: ConsumedCapacity | ConsumedCapacity[] }>(op: string, send: Promise<T>): Promise<T> {
    const out = await send;
    const consumed = out.ConsumedCapacity;
    if (consumed) this.meter(op, Array.isArray(consumed) ? consumed : [consumed]);
    return out;
  }

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
          this.doc.send(
            new TransactWriteCommand({
              TransactItems: [{ Put: roomPut }, ...memberItems.map((Item) => ({ Put: { TableName: this.tableName, Item } }))],
              ReturnConsumedCapacity: 'INDEXES',
            }),
          ),
        );
        return;
      }
      await this.run('createRoom', this.doc.send(new PutCommand({ ...roomPut, ReturnConsumedCapacity: 'INDEXES' })));
    } catch (err) {
      if (isConditionFailure(err) || (err as { name?: string }).name === 'TransactionCanceledException') {
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
        this.doc.send(
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
    return this.item(ENTITY.member, keys.member(m.roomId, m.userId), m, keys.memberGsi1(m.roomId, m.userId));
  }

  async getRoom(roomId: string): Promise<RoomRecord | undefined> {
    const out = await this.run('getRoom', this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.room(roomId), ReturnConsumedCapacity: 'INDEXES' })));
    return out.Item ? recordOf<RoomRecord>(out.Item) : undefined;
  }

  async getMember(roomId: string, userId: string): Promise<MemberRecord | undefined> {
    const out = await this.run(
      'getMember',
      this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.member(roomId, userId), ReturnConsumedCapacity: 'INDEXES' })),
    );
    return out.Item ? recordOf<MemberRecord>(out.Item) : undefined;
  }

  async getRoomAndMember(roomId: string, userId: string): Promise<{ room?: RoomRecord; member?: MemberRecord }> {
    const out = await this.run(
      'getRoomAndMember',
      this.doc.send(
        new BatchGetCommand({
          RequestItems: { [this.tableName]: { Keys: [keys.room(roomId), keys.member(roomId, userId)], ConsistentRead: true } },
          ReturnConsumedCapacity: 'INDEXES',
        }),
      ),
    );
    const result: { room?: RoomRecord; member?: MemberRecord } = {};
    for (const item of out.Responses?.[this.tableName] ?? []) {
      if (item[TABLE.entityAttribute] === ENTITY.room) result.room = recordOf<RoomRecord>(item);
      else if (item[TABLE.entityAttribute] === ENTITY.member) result.member = recordOf<MemberRecord>(item);
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
        this.doc.send(
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

  async listMemberships(userId: string, limit: number, cursor?: string): Promise<Page<MemberRecord>> {
    const { GSI1PK, GSI1SKPrefix } = keys.userRoomsGsi1(userId);
    const out = await this.run(
      'listMemberships',
      this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: TABLE.gsi1.name,
          KeyConditionExpression: 'GSI1PK = :pk AND begins_with(GSI1SK, :sk)',
          ExpressionAttributeValues: { ':pk': GSI1PK, ':sk': GSI1SKPrefix },
          Limit: limit,
          ExclusiveStartKey: decodeCursor(cursor),
          ReturnConsumedCapacity: 'INDEXES',
        }),
      ),
    );
    const next = encodeCursor(out.LastEvaluatedKey);
    return { items: (out.Items ?? []).map((i) => recordOf<MemberRecord>(i)), ...(next && { cursor: next }) };
  }

  async getRooms(roomIds: string[]): Promise<RoomRecord[]> {
    const rooms: RoomRecord[] = [];
    for (let i = 0; i < roomIds.length; i += 100) {
      let pending: Item[] = roomIds.slice(i, i + 100).map((id) => keys.room(id));
      for (let attempt = 0; pending.length > 0; attempt++) {
        if (attempt > 0) await new Promise((r) => setTimeout(r, 25 * 2 ** attempt));
        const out = await this.run(
          'getRooms',
          this.doc.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: pending } }, ReturnConsumedCapacity: 'INDEXES' })),
        );
        rooms.push(...(out.Responses?.[this.tableName] ?? []).map((item) => recordOf<RoomRecord>(item)));
        pending = (out.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Item[];
      }
    }
    return rooms;
  }

  async markRead(roomId: string, userId: string, seq: number): Promise<void> {
    try {
      await this.run(
        'markRead',
        this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: keys.member(roomId, userId),
            UpdateExpression: 'SET lastReadSeq = :seq',
            ConditionExpression: 'attribute_exists(PK) AND lastReadSeq < :seq',
            ExpressionAttributeValues: { ':seq': seq },
            ReturnConsumedCapacity: 'INDEXES',
          }),
        ),
      );
    } catch (err) {
      // Already read that far (or left the room): the mark only moves forward.
      if (!isConditionFailure(err)) throw err;
    }
  }

  // ---- messages ----

  async nextSeq(roomId: string, at: string): Promise<number | undefined> {
    try {
      const out = await this.run(
        'nextSeq',
        this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: keys.room(roomId),
            UpdateExpression: 'SET lastSeq = lastSeq + :one, lastActivityAt = :at',
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
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.item(ENTITY.message, keys.message(message.roomId, message.seq), message),
          ConditionExpression: 'attribute_not_exists(PK)',
          ReturnConsumedCapacity: 'INDEXES',
        }),
      ),
    );
  }

  async getMessage(roomId: string, seq: number): Promise<MessageRecord | undefined> {
    const out = await this.run(
      'getMessage',
      this.doc.send(new GetCommand({ TableName: this.tableName, Key: keys.message(roomId, seq), ConsistentRead: true, ReturnConsumedCapacity: 'INDEXES' })),
    );
    return out.Item ? recordOf<MessageRecord>(out.Item) : undefined;
  }

  async listMessages(roomId: string, q: { limit: number; beforeSeq?: number; afterSeq?: number }): Promise<MessageRecord[]> {
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
      this.doc.send(
        new QueryCommand({
          TableName: this.tableName,
          KeyConditionExpression: condition.expr,
          ExpressionAttributeValues: { ':pk': PK, ...condition.values },
          ScanIndexForward: ascending,
          Limit: q.limit,
          ConsistentRead: true,
          ReturnConsumedCapacity: 'INDEXES',
        }),
      ),
    );
    return (out.Items ?? []).map((i) => recordOf<MessageRecord>(i));
  }

  async latestMessages(roomIds: string[]): Promise<Map<string, MessageRecord>> {
    const pairs = await Promise.all(
      roomIds.map(async (roomId) => {
        const [latest] = await this.listMessages(roomId, { limit: 1 });
        return [roomId, latest] as const;
      }),
    );
    return new Map(pairs.filter((p): p is readonly [string, MessageRecord] => p[1] !== undefined));
  }

  async claimSend(roomId: string, userId: string, clientMessageId: string, at: string, ttlSeconds: number): Promise<SendClaim> {
    const Key = keys.claim(roomId, userId, clientMessageId);
    try {
      await this.run(
        'claimSend',
        this.doc.send(
          new PutCommand({
            TableName: this.tableName,
            Item: { ...Key, [TABLE.entityAttribute]: ENTITY.claim, claimedAt: at, [TABLE.ttlAttribute]: epochSeconds(at) + ttlSeconds },
            ConditionExpression: 'attribute_not_exists(PK)',
            ReturnConsumedCapacity: 'INDEXES',
          }),
        ),
      );
      return { state: 'claimed' };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
    }
    const out = await this.run('getClaim', this.doc.send(new GetCommand({ TableName: this.tableName, Key, ConsistentRead: true, ReturnConsumedCapacity: 'INDEXES' })));
    const item = out.Item ?? {};
    return {
      state: 'exists',
      claimedAt: String(item.claimedAt ?? at),
      ...(typeof item.seq === 'number' && { seq: item.seq }),
    };
  }

  async retakeStaleClaim(roomId: string, userId: string, clientMessageId: string, claimedAt: string, at: string): Promise<boolean> {
    try {
      await this.run(
        'retakeStaleClaim',
        this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: keys.claim(roomId, userId, clientMessageId),
            UpdateExpression: 'SET claimedAt = :at',
            ConditionExpression: 'claimedAt = :was AND attribute_not_exists(seq)',
            ExpressionAttributeValues: { ':at': at, ':was': claimedAt },
            ReturnConsumedCapacity: 'INDEXES',
          }),
        ),
      );
      return true;
    } catch (err) {
      if (isConditionFailure(err)) return false;
      throw err;
    }
  }

  async completeClaim(roomId: string, userId: string, clientMessageId: string, seq: number): Promise<void> {
    await this.run(
      'completeClaim',
      this.doc.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: keys.claim(roomId, userId, clientMessageId),
          UpdateExpression: 'SET seq = :seq',
          ExpressionAttributeValues: { ':seq': seq },
          ReturnConsumedCapacity: 'INDEXES',
        }),
      ),
    );
  }

  // ---- connections ----

  async putConnection(c: ConnectionRecord, ttlSeconds: number): Promise<void> {
    await this.run(
      'putConnection',
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: this.item(ENTITY.connection, keys.connection(c.connectionId), c, {
            ...keys.connectionGsi1(c.userId, c.connectionId),
            [TABLE.ttlAttribute]: epochSeconds(c.connectedAt) + ttlSeconds,
          }),
          ReturnConsumedCapacity: 'INDEXES',
        }),
      ),
    );
  }

  async deleteConnection(connectionId: string): Promise<void> {
    await this.run(
      'deleteConnection',
      this.doc.send(new DeleteCommand({ TableName: this.tableName, Key: keys.connection(connectionId), ReturnConsumedCapacity: 'INDEXES' })),
    );
  }

  async connectionsOf(userIds: string[]): Promise<ConnectionRecord[]> {
    const now = Math.floor(Date.now() / 1000);
    const perUser = await Promise.all(
      userIds.map(async (userId) => {
        const { GSI1PK, GSI1SKPrefix } = keys.userConnectionsGsi1(userId);
        const out = await this.run(
          'connectionsOf',
          this.doc.send(
            new QueryCommand({
              TableName: this.tableName,
              IndexName: TABLE.gsi1.name,
              KeyConditionExpression: 'GSI1PK = :pk AND begins_with(GSI1SK, :sk)',
              ExpressionAttributeValues: { ':pk': GSI1PK, ':sk': GSI1SKPrefix },
              ReturnConsumedCapacity: 'INDEXES',
            }),
          ),
        );
        // DynamoDB deletes expired items late (up to days in AWS): they must not count as open.
        return (out.Items ?? []).filter((i) => typeof i[TABLE.ttlAttribute] !== 'number' || (i[TABLE.ttlAttribute] as number) > now);
      }),
    );
    return perUser.flat().map((i) => recordOf<ConnectionRecord>(i));
  }
}
