import type { ChangeRecord, MessageRecord, ReactionRecord } from '#shared/model.ts';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { EditOutcome, InsertOutcome, MessageEdit, MessageStore } from '#shared/ports/messages.ts';
import { unlessConditionFails, type TableClient } from './client.ts';
import { isConditionFailure } from './store-errors.ts';
import { change } from './entities/change.ts';
import { keys, seqFromMessageSk } from './entities/keys.ts';
import { message } from './entities/message.ts';
import { storedContent } from './entities/message-content.ts';
import { reaction } from './entities/reaction.ts';

/** A room's messages, their reactions and the catch-up log, in the room's partition. */
export class DynamoMessageStore implements MessageStore {
  constructor(private readonly table: TableClient) {}

  async latestSeq(roomId: string): Promise<number> {
    const { PK, SKPrefix } = keys.messagePrefix(roomId);
    const out = await this.table.query('latestSeq', {
      KeyConditionExpression: 'PK = :pk AND begins_with(SK, :sk)',
      ExpressionAttributeValues: { ':pk': PK, ':sk': SKPrefix },
      ProjectionExpression: 'SK',
      ScanIndexForward: false,
      Limit: 1,
      ConsistentRead: true,
    });
    const sk = out.Items?.[0]?.SK;
    return typeof sk === 'string' ? seqFromMessageSk(sk) : 0;
  }

  async insertMessage(m: MessageRecord): Promise<InsertOutcome> {
    try {
      await this.table.put('insertMessage', {
        Item: message.toItem(m),
        ConditionExpression: 'attribute_not_exists(PK)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      });
      return { stored: true };
    } catch (err) {
      if (!isConditionFailure(err)) throw err;
      const found = (err as { Item?: Record<string, AttributeValue> }).Item;
      // The message that holds the seq came back with the refusal; a service that leaves it out is asked.
      const occupant = found ? message.fromItem(unmarshall(found)) : await this.getMessage(m.roomId, m.seq);
      if (!occupant) throw new Error(`seq ${m.seq} of room ${m.roomId} refused, yet holds no message`);
      return { stored: false, occupant };
    }
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

  async getMessages(roomId: string, seqs: number[]): Promise<MessageRecord[]> {
    const items = await this.table.batchGet('getMessages', [...new Set(seqs)].map((seq) => message.key(roomId, seq)), { consistent: true });
    return items.map(message.fromItem).sort((a, b) => a.seq - b.seq);
  }

  async findSent(roomId: string, senderId: string, clientMessageId: string, fromSeq: number, limit: number): Promise<{ found?: MessageRecord; lastSeq: number }> {
    const { PK, SKPrefix } = keys.messagePrefix(roomId);
    let start: Record<string, unknown> | undefined;
    let lastSeq = fromSeq - 1;
    let read = 0;
    do {
      const out = await this.table.query('findSent', {
        KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
        ProjectionExpression: 'SK, senderId, clientMessageId',
        ExpressionAttributeValues: { ':pk': PK, ':from': keys.message(roomId, Math.max(1, fromSeq)).SK, ':to': `${SKPrefix}\uffff` },
        ConsistentRead: true,
        ...(start && { ExclusiveStartKey: start }),
      });
      for (const item of out.Items ?? []) {
        lastSeq = seqFromMessageSk(String(item.SK));
        if (item.clientMessageId === clientMessageId && item.senderId === senderId) return { found: await this.getMessage(roomId, lastSeq), lastSeq };
      }
      read += out.Items?.length ?? 0;
      start = out.LastEvaluatedKey;
    } while (start && read < limit);
    return { lastSeq };
  }

  async editMessage(roomId: string, seq: number, edit: MessageEdit): Promise<EditOutcome> {
    // The text goes where its length puts it, and its other form goes: long to short and short to long alike.
    const stored = storedContent(edit.content);
    const [set, drop] = stored.contentZ ? ['contentZ', 'content'] : ['content', 'contentZ'];
    const applied = await unlessConditionFails(
      this.table.update('editMessage', {
        Key: message.key(roomId, seq),
        UpdateExpression: `SET ${set} = :content, mentions = :mentions, editedAt = :at REMOVE ${drop}`,
        ConditionExpression: `attribute_exists(PK) AND senderId = :editor AND attribute_not_exists(deletedAt)${edit.notBefore ? ' AND createdAt >= :notBefore' : ''}`,
        ExpressionAttributeValues: {
          ':content': stored.contentZ ?? stored.content,
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
        UpdateExpression: 'SET deletedAt = :at, content = :empty, mentions = :none REMOVE metadata, replyTo, contentZ',
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

  async changesSince(roomId: string, since: string, limit: number, after?: Pick<ChangeRecord, 'at' | 'seq' | 'kind'>): Promise<ChangeRecord[]> {
    const { PK, from, to } = keys.changesSince(roomId, since);
    // A start key must lie within the key condition (else DynamoDB refuses the query): one before `from` is not needed.
    const start = after && keys.change(roomId, after.at, after.seq, after.kind);
    const resume = start && start.SK >= from ? start : undefined;
    const out = await this.table.query('changesSince', {
      KeyConditionExpression: 'PK = :pk AND SK BETWEEN :from AND :to',
      ExpressionAttributeValues: { ':pk': PK, ':from': resume ? resume.SK : from, ':to': to },
      ...(resume && { ExclusiveStartKey: resume }),
      Limit: limit,
      ConsistentRead: true,
    });
    return (out.Items ?? []).map(change.fromItem);
  }
}
