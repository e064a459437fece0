import type { TypingRecord } from '#shared/model.ts';
import type { TypingStore } from '#shared/ports/typing.ts';
import type { TableClient } from './client.ts';
import { keys } from './entities/keys.ts';
import { typing } from './entities/typing.ts';

/** Typing indicators, in the room's partition; DynamoDB's TTL removes them. */
export class DynamoTypingStore implements TypingStore {
  constructor(private readonly table: TableClient) {}

  async putTyping(t: TypingRecord): Promise<void> {
    await this.table.put('putTyping', { Item: typing.toItem(t) });
  }

  async clearTyping(roomId: string, userId: string): Promise<void> {
    await this.table.delete('clearTyping', { Key: typing.key(roomId, userId) });
  }

  async listTyping(roomId: string): Promise<TypingRecord[]> {
    const { PK, SKPrefix } = keys.typingPrefix(roomId);
    const items = await this.table.queryAll('listTyping', {
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
      ExpressionAttributeValues: { ':pk': PK, ':sk': SKPrefix },
    });
    return items.map(typing.fromItem);
  }
}
