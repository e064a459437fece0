import type { ChangeRecord, MessageRecord, ReactionRecord } from '#shared/model.ts';
import type { EditOutcome, MessageEdit, MessageStore } from '#shared/ports/messages.ts';
import { unlessConditionFails, type TableClient } from './client.ts';
import { change } from './entities/change.ts';
import { keys } from './entities/keys.ts';
import { message } from './entities/message.ts';
import { reaction } from './entities/reaction.ts';

/** A room's messages, their reactions and the catch-up log, in the room's partition. */
export class DynamoMessageStore implements MessageStore {
  constructor(private readonly table: TableClient) {}

  async nextSeq(roomId: string, at: string): Promise<number | undefined> {
    const out = await unlessConditionFails(
      this.table.update('nextSeq', {
        Key: keys.room(roomId),
        // Removing the room-event mark keeps the stream filter from seeing a message as a room update.
        UpdateExpression: 'SET lastSeq = lastSeq + :one, lastActivityAt = :at REMOVE roomEvent',
        ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(archivedAt)',
        ExpressionAttributeValues: { ':one': 1, ':at': at },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return out === false ? undefined : Number(out.Attributes?.lastSeq);
  }

  async putMessage(m: MessageRecord): Promise<void> {
    await this.table.put('putMessage', { Item: message.toItem(m), ConditionExpression: 'attribute_not_exists(PK)' });
  }

  async getMessage(roomId: string, seq: number): Promise<MessageRecord | undefined> {
    const out = await this.table.get('getMessage', { Key: message.key(roomId, seq), ConsistentRead: true });
    return out.Item ? message.fromItem(out.Item) : undefined;
  }

  /**
   * Strongly consistent for the newest page and for catch-up (`afterSeq`): a message just sent
   * must be there. Older pages (`beforeSeq`) read eventually consistent, at half the read units:
   * their messages were stored before the client saw the cursor's, and a change made to them in
   * the last second reaches the client as an event and through `/changes`.
   */
  async listMessages(roomId: string, q: { limit: number; beforeSeq?: number; afterSeq?: number }, opts: { consistent?: boolean } = {}): Promise<MessageRecord[]> {
    if (q.beforeSeq !== undefined && q.beforeSeq <= 1) return [];
    const { PK, SKPrefix } = keys.messagePrefix(roomId);
    const condition =
      q.afterSeq !== undefined
        ? { expr: 'PK = :pk AND SK BETWEEN :from AND :to', values: { ':from': keys.message(roomId, q.afterSeq + 1).SK, ':to': `${SKPrefix}\uffff` } }
        : q.beforeSeq !== undefined
          ? { expr: 'PK = :pk AND SK BETWEEN :from AND :to', values: { ':from': SKPrefix, ':to': keys.message(roomId, q.beforeSeq - 1).SK } }
          : { expr: 'PK = :pk AND begins_with(SK, :from)', values: { ':from': SKPrefix } };
    const out = await this.table.query('listMessages', {
      KeyConditionExpression: condition.expr,
      ExpressionAttributeValues: { ':pk': PK, ...condition.values },
      ScanIndexForward: q.afterSeq !== undefined,
      Limit: q.limit,
      ConsistentRead: opts.consistent ?? q.beforeSeq === undefined,
    });
    return (out.Items ?? []).map(message.fromItem);
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
    const items = await this.table.batchGet('getMessages', [...new Set(seqs)].map((seq) => message.key(roomId, seq)), { consistent: true });
    return items.map(message.fromItem).sort((a, b) => a.seq - b.seq);
  }

  async findByClientMessageId(roomId: string, senderId: string, clientMessageId: string, window: number): Promise<MessageRecord | undefined> {
    const { PK, SKPrefix } = keys.messagePrefix(roomId);
    const out = await this.table.query('findByClientMessageId', {
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
      FilterExpression: 'clientMessageId = :c AND senderId = :u',
      ExpressionAttributeValues: { ':pk': PK, ':sk': SKPrefix, ':c': clientMessageId, ':u': senderId },
      ScanIndexForward: false,
      Limit: window,
      ConsistentRead: true,
    });
    const item = out.Items?.[0];
    return item ? message.fromItem(item) : undefined;
  }

  async editMessage(roomId: string, seq: number, edit: MessageEdit): Promise<EditOutcome> {
    const applied = await unlessConditionFails(
      this.table.update('editMessage', {
        Key: message.key(roomId, seq),
        UpdateExpression: 'SET content = :content, mentions = :mentions, editedAt = :at',
        ConditionExpression: `attribute_exists(PK) AND senderId = :editor AND attribute_not_exists(deletedAt)${edit.notBefore ? ' AND createdAt >= :notBefore' : ''}`,
        ExpressionAttributeValues: {
          ':content': edit.content,
          ':mentions': edit.mentions,
          ':at': edit.at,
          ':editor': edit.editorId,
          ...(edit.notBefore && { ':notBefore': edit.notBefore }),
        },
      }),
    );
    if (applied) return 'done';
    const current = await this.getMessage(roomId, seq);
    return current && !current.deletedAt ? 'refused' : 'missing';
  }

  async deleteMessage(roomId: string, seq: number, at: string): Promise<EditOutcome> {
    const applied = await unlessConditionFails(
      this.table.update('deleteMessage', {
        Key: message.key(roomId, seq),
        UpdateExpression: 'SET deletedAt = :at, content = :empty, mentions = :none REMOVE metadata, replyTo',
        ConditionExpression: 'attribute_exists(PK) AND attribute_not_exists(deletedAt)',
        ExpressionAttributeValues: { ':at': at, ':empty': '', ':none': [] },
      }),
    );
    return applied ? 'done' : 'missing';
  }

  async addReaction(r: ReactionRecord): Promise<boolean> {
    const put = this.table.put('addReaction', { Item: reaction.toItem(r), ConditionExpression: 'attribute_not_exists(PK)' });
    return (await unlessConditionFails(put)) !== false;
  }

  async removeReaction(roomId: string, seq: number, emoji: string, userId: string): Promise<boolean> {
    const del = this.table.delete('removeReaction', { Key: reaction.key({ roomId, seq, emoji, userId }), ConditionExpression: 'attribute_exists(PK)' });
    return (await unlessConditionFails(del)) !== false;
  }

  async reactionEmoji(roomId: string, seq: number): Promise<Set<string>> {
    const { PK, SKPrefix } = keys.reactionsOfMessage(roomId, seq);
    const items = await this.table.queryAll('reactionEmoji', {
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
      ExpressionAttributeValues: { ':pk': PK, ':sk': SKPrefix },
      ProjectionExpression: 'emoji',
    });
    return new Set(items.map((i) => String(i.emoji)));
  }

  async countReactions(roomId: string, seq: number, emoji: string): Promise<number> {
    const { PK, SKPrefix } = keys.reactionsOfEmoji(roomId, seq, emoji);
    return this.table.countAll('countReactions', {
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
      ExpressionAttributeValues: { ':pk': PK, ':sk': SKPrefix },
      ConsistentRead: true,
    });
  }

  async reactionsBetween(roomId: string, fromSeq: number, toSeq: number): Promise<ReactionRecord[]> {
    const { PK, from, to } = keys.reactionRange(roomId, fromSeq, toSeq);
    const items = await this.table.queryAll('reactionsBetween', {
      KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': PK, ':from': from, ':to': to },
    });
    return items.map(reaction.fromItem);
  }

  async recordChange(c: ChangeRecord, ttlSeconds: number): Promise<void> {
    await this.table.put('recordChange', { Item: change.toItem(c, ttlSeconds) });
  }

  async changesSince(roomId: string, since: string, limit: number): Promise<ChangeRecord[]> {
    const { PK, from, to } = keys.changesSince(roomId, since);
    const out = await this.table.query('changesSince', {
      KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': PK, ':from': from, ':to': to },
      Limit: limit,
      ConsistentRead: true,
    });
    return (out.Items ?? []).map(change.fromItem);
  }
}
