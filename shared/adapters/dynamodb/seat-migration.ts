import { GetCommand, ScanCommand, TransactWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Item } from './entities/entity.ts';
import { LEGACY_MARK, LEVEL_COPY, member } from './entities/member.ts';
import { seat } from './entities/seat.ts';
import { ENTITY, TABLE } from './table.ts';

/**
 * Seats for a table written before them (docs/operations.md, "Seats"): an operator's command
 * (`npm run migrate:seats`), never a function's, run once after deploying the code that keeps
 * seats, and safe to run again or while the functions serve.
 *
 * - Every member item without a seat gets one, made from what the member item holds (role, marks,
 *   clientMessageId claims, send windows), in one transaction with the member item shedding
 *   those attributes (its read mark left at 0, as member items are written now), and only while
 *   it is still the member item read (same join time and role).
 * - A member item whose seat exists (made by the member's first send or receipt since the
 *   deploy) sheds the attributes its seat took over, only while the seat is there.
 * - A seat whose member item is gone (a member removed, during the deploy, by a function that
 *   predates seats) is deleted, only while the member item is still absent.
 * Each step is conditional: a concurrent join, leave or role change makes it skip that item,
 * and the next run sees it as it is.
 *
 * Uses the AWS SDK's document client (the credentials chain an operator has, profiles included);
 * the functions never load it.
 */
export interface SeatMigrationResult {
  members: number;
  seatsCreated: number;
  membersTrimmed: number;
  orphanSeatsDeleted: number;
  /** Items a concurrent change made this run skip (run again to settle them). */
  skipped: number;
}

/**
 * What a member item keeps: who, in which room, with which role, and the copies of their
 * notification preferences; the rest was the seat's.
 */
const MEMBER_ATTRIBUTES = new Set<string>([
  ...Object.values(LEVEL_COPY),
  TABLE.partitionKey,
  TABLE.sortKey,
  TABLE.gsi1.partitionKey,
  TABLE.gsi1.sortKey,
  TABLE.entityAttribute,
  'roomId',
  'userId',
  'displayName',
  'role',
  'joinedAt',
]);

/**
 * The update that removes a member item's attributes its seat holds (leaving the read mark at
 * 0, as member items are written now), or undefined when there are none.
 */
function trimOf(item: Item): { expression: string; names: Record<string, string>; values: Record<string, unknown> } | undefined {
  const extra = Object.keys(item).filter((name) => !MEMBER_ATTRIBUTES.has(name) && !Object.hasOwn(LEGACY_MARK, name));
  if (extra.length === 0 && item.lastReadSeq === LEGACY_MARK.lastReadSeq) return undefined;
  const names: Record<string, string> = Object.fromEntries(extra.map((name, i) => [`#x${i}`, name]));
  const remove = Object.keys(names);
  names['#mark'] = 'lastReadSeq';
  return { expression: `SET #mark = :mark${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`, names, values: { ':mark': LEGACY_MARK.lastReadSeq } };
}

export async function* scanEntity(doc: DynamoDBDocumentClient, tableName: string, entity: string): AsyncGenerator<Item> {
  let start: Record<string, unknown> | undefined;
  do {
    const out = await doc.send(
      new ScanCommand({
        TableName: tableName,
        FilterExpression: '#et = :et',
        ExpressionAttributeNames: { '#et': TABLE.entityAttribute },
        ExpressionAttributeValues: { ':et': entity },
        ConsistentRead: true,
        ...(start && { ExclusiveStartKey: start }),
      }),
    );
    for (const item of out.Items ?? []) yield item;
    start = out.LastEvaluatedKey;
  } while (start);
}

/** True when the transaction applied; false when one of its conditions did not hold. */
async function transact(doc: DynamoDBDocumentClient, items: NonNullable<ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']>): Promise<boolean> {
  try {
    await doc.send(new TransactWriteCommand({ TransactItems: items }));
    return true;
  } catch (err) {
    if (err instanceof Error && err.name === 'TransactionCanceledException') return false;
    throw err;
  }
}

/** Gives every member a seat and removes seats without a member; see above. */
export async function migrateSeats(doc: DynamoDBDocumentClient, tableName: string): Promise<SeatMigrationResult> {
  const result: SeatMigrationResult = { members: 0, seatsCreated: 0, membersTrimmed: 0, orphanSeatsDeleted: 0, skipped: 0 };
  for await (const m of scanEntity(doc, tableName, ENTITY.member)) {
    result.members++;
    const memberKey = member.key(String(m.roomId), String(m.userId));
    const seatKey = seat.key(String(m.roomId), String(m.userId));
    const found = (await doc.send(new GetCommand({ TableName: tableName, Key: seatKey, ConsistentRead: true }))).Item;
    const trim = trimOf(m);
    if (!found) {
      const asRead = { ':joined': m.joinedAt, ':role': m.role };
      const memberStep = trim
        ? { Update: { TableName: tableName, Key: memberKey, UpdateExpression: trim.expression, ConditionExpression: 'joinedAt = :joined AND #role = :role', ExpressionAttributeNames: { ...trim.names, '#role': 'role' }, ExpressionAttributeValues: { ...asRead, ...trim.values } } }
        : { ConditionCheck: { TableName: tableName, Key: memberKey, ConditionExpression: 'joinedAt = :joined AND #role = :role', ExpressionAttributeNames: { '#role': 'role' }, ExpressionAttributeValues: asRead } };
      const made = await transact(doc, [memberStep, { Put: { TableName: tableName, Item: seat.fromMemberItem(m), ConditionExpression: 'attribute_not_exists(PK)' } }]);
      if (made) {
        result.seatsCreated++;
        if (trim) result.membersTrimmed++;
      } else result.skipped++;
    } else if (trim) {
      const trimmed = await transact(doc, [
        { ConditionCheck: { TableName: tableName, Key: seatKey, ConditionExpression: 'attribute_exists(PK)' } },
        { Update: { TableName: tableName, Key: memberKey, UpdateExpression: trim.expression, ConditionExpression: 'attribute_exists(PK)', ExpressionAttributeNames: trim.names, ExpressionAttributeValues: trim.values } },
      ]);
      if (trimmed) result.membersTrimmed++;
      else result.skipped++;
    }
  }
  for await (const s of scanEntity(doc, tableName, ENTITY.seat)) {
    const memberKey = member.key(String(s.roomId), String(s.userId));
    if ((await doc.send(new GetCommand({ TableName: tableName, Key: memberKey, ConsistentRead: true }))).Item) continue;
    const deleted = await transact(doc, [
      { ConditionCheck: { TableName: tableName, Key: memberKey, ConditionExpression: 'attribute_not_exists(PK)' } },
      { Delete: { TableName: tableName, Key: seat.key(String(s.roomId), String(s.userId)), ConditionExpression: 'joinedAt = :joined', ExpressionAttributeValues: { ':joined': s.joinedAt } } },
    ]);
    if (deleted) result.orphanSeatsDeleted++;
    else result.skipped++;
  }
  return result;
}
