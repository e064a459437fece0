import { BatchGetCommand, BatchWriteCommand, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AttachmentRecord } from '#shared/model.ts';
import type { AttachmentStore } from '#shared/ports/attachments.ts';
import { ENTITY, TABLE, keys } from './table.ts';
import { unavailable } from '#shared/errors.ts';
import { STORE_RETRY, TableClient, epochSeconds, recordOf } from './table-client.ts';

/** Upload slots, in the room's partition: pending ones carry the TTL attribute, attached ones none. */
export class DynamoAttachmentStore extends TableClient implements AttachmentStore {
  async putPending(a: AttachmentRecord, expiresAt: string): Promise<void> {
    await this.run('putAttachment', () =>
      this.doc.send(
        new PutCommand({
          TableName: this.tableName,
          Item: { ...keys.attachment(a.roomId, a.id), [TABLE.entityAttribute]: ENTITY.attachment, ...a, [TABLE.ttlAttribute]: epochSeconds(expiresAt) },
          ConditionExpression: 'attribute_not_exists(PK)',
        }),
      ),
    );
  }

  async getAttachments(roomId: string, ids: string[]): Promise<AttachmentRecord[]> {
    if (ids.length === 0) return [];
    const out = await this.run('getAttachments', () =>
      this.doc.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: ids.map((id) => keys.attachment(roomId, id)), ConsistentRead: true } } })),
    );
    // At most 10 small items: BatchGet returns them all or throws on throttling, retried by the SDK.
    return (out.Responses?.[this.tableName] ?? []).map((i) => recordOf<AttachmentRecord>(i));
  }

  async claim(roomId: string, ids: string[], uploaderId: string, at: string): Promise<boolean> {
    try {
      await this.run('claimAttachments', () =>
        this.doc.send(
          new TransactWriteCommand({
            TransactItems: ids.map((id) => ({
              Update: {
                TableName: this.tableName,
                Key: keys.attachment(roomId, id),
                UpdateExpression: 'SET #status = :attached, attachedAt = :at REMOVE #ttl',
                ConditionExpression: 'attribute_exists(PK) AND #status = :pending AND uploaderId = :uploader',
                ExpressionAttributeNames: { '#status': 'status', '#ttl': TABLE.ttlAttribute },
                ExpressionAttributeValues: { ':attached': 'attached', ':pending': 'pending', ':uploader': uploaderId, ':at': at },
              },
            })),
          }),
        ),
      );
      return true;
    } catch (err) {
      if ((err as { name?: string }).name === 'TransactionCanceledException') return false;
      throw err;
    }
  }

  async markThumbnail(roomId: string, id: string): Promise<boolean> {
    try {
      await this.run('markThumbnail', () =>
        this.doc.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: keys.attachment(roomId, id),
            UpdateExpression: 'SET thumbnail = :yes',
            ConditionExpression: 'attribute_exists(PK) AND #status = :attached',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':yes': true, ':attached': 'attached' },
          }),
        ),
      );
      return true;
    } catch (err) {
      if ((err as { name?: string }).name === 'ConditionalCheckFailedException') return false;
      throw err;
    }
  }

  /**
   * Eventually consistent and projected to the id (half a read unit per small item). Keys that
   * DynamoDB leaves unprocessed under throttling are read once more, then count as no thumbnail:
   * a missing `thumbnailUrl` is harmless and the next read has it.
   */
  async withThumbnails(refs: { roomId: string; id: string }[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < refs.length; i += 100) {
      let request: Record<string, unknown> | undefined = {
        Keys: refs.slice(i, i + 100).map((r) => keys.attachment(r.roomId, r.id)),
        ProjectionExpression: 'id, thumbnail',
      };
      for (let attempt = 0; request && attempt < 2; attempt++) {
        const out = await this.run('withThumbnails', () => this.doc.send(new BatchGetCommand({ RequestItems: { [this.tableName]: request as never } })));
        for (const item of out.Responses?.[this.tableName] ?? []) if (item.thumbnail === true) found.add(item.id as string);
        request = out.UnprocessedKeys?.[this.tableName] as Record<string, unknown> | undefined;
      }
    }
    return found;
  }

  async remove(roomId: string, ids: string[]): Promise<void> {
    for (let i = 0; i < ids.length; i += 25) {
      let requests: Record<string, unknown>[] | undefined = ids.slice(i, i + 25).map((id) => ({ DeleteRequest: { Key: keys.attachment(roomId, id) } }));
      for (let attempt = 0; requests && requests.length > 0; attempt++) {
        if (attempt > 5) throw unavailable(STORE_RETRY.retryAfterSeconds);
        const out = await this.run('removeAttachments', () => this.doc.send(new BatchWriteCommand({ RequestItems: { [this.tableName]: requests as never } })));
        requests = out.UnprocessedItems?.[this.tableName] as Record<string, unknown>[] | undefined;
        if (requests?.length) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
      }
    }
  }
}
