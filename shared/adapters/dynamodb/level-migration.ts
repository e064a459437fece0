import { BatchGetCommand, GetCommand, UpdateCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Item, Key } from './entities/entity.ts';
import { memberLevels } from './entities/member-levels.ts';
import { seat } from './entities/seat.ts';
import { copyRoomPreference, copyUserLevel, levelSources, settleLevelCopies, type CopyTable } from './level-copies.ts';
import { scanEntity } from './seat-migration.ts';
import { ENTITY } from './table.ts';

/**
 * Copies of notification preferences for member items written before they were kept
 * (docs/operations.md, "Copies of preferences"): an operator's command (`npm run migrate:levels`),
 * never a function's. The events consumer reads the preference items of a member item without
 * copies, so nothing is wrong before it has run: it only makes those members cost what the others
 * do. Idempotent, and safe while the functions serve: each copy is written as a join writes it
 * (level-copies.ts: read, write forward only, read again), only onto a member item that still
 * exists and has its seat, through which later changes of level reach it.
 */
export interface LevelMigrationResult {
  members: number;
  /** Member items that got the copies they lacked. */
  copied: number;
  /** Member items without a seat, left as they are: run `npm run migrate:seats`, then this again. */
  withoutSeat: number;
}

/** The copies' table calls over the SDK's document client (the credentials chain an operator has). */
function documentTable(doc: DynamoDBDocumentClient, tableName: string): CopyTable {
  return {
    update: async (_op, input) => doc.send(new UpdateCommand({ ...input, TableName: tableName })),
    batchGet: async (_op, keys, o) => {
      const found: Item[] = [];
      for (let i = 0; i < keys.length; i += 100) {
        let pending: Key[] = keys.slice(i, i + 100);
        for (let attempt = 1; pending.length > 0; attempt++) {
          if (attempt > 8) throw new Error('BatchGetItem: keys still unprocessed after 8 attempts');
          const out = await doc.send(new BatchGetCommand({ RequestItems: { [tableName]: { Keys: pending, ConsistentRead: o.consistent } } }));
          found.push(...(out.Responses?.[tableName] ?? []));
          pending = (out.UnprocessedKeys?.[tableName]?.Keys ?? []) as Key[];
          if (pending.length > 0) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
        }
      }
      return found;
    },
  };
}

/** Gives every member item (with a seat) the copies it lacks; see above. */
export async function migrateLevels(doc: DynamoDBDocumentClient, tableName: string): Promise<LevelMigrationResult> {
  const table = documentTable(doc, tableName);
  const result: LevelMigrationResult = { members: 0, copied: 0, withoutSeat: 0 };
  for await (const item of scanEntity(doc, tableName, ENTITY.member)) {
    result.members++;
    const { userId, user, room } = memberLevels.levelsOf(item);
    if (user && room) continue;
    const roomId = String(item.roomId);
    if (!(await doc.send(new GetCommand({ TableName: tableName, Key: seat.key(roomId, userId), ConsistentRead: true }))).Item) {
      result.withoutSeat++;
      continue;
    }
    const sources = await levelSources(table, 'migrateLevels', roomId, [userId], { consistent: true, withRoom: true });
    const source = sources.get(userId)!;
    const wrote = await Promise.all([user ? false : copyUserLevel(table, roomId, userId, source.user), room ? false : copyRoomPreference(table, roomId, userId, source.room)]);
    await settleLevelCopies(table, roomId, [userId], sources, { withRoom: true });
    if (wrote.some(Boolean)) result.copied++;
  }
  return result;
}
