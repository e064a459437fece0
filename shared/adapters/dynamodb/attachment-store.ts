import type { AttachmentRecord } from '#shared/model.ts';
import type { AttachmentStore } from '#shared/ports/attachments.ts';
import { unlessConditionFails, type TableClient } from './client.ts';
import { attachment } from './entities/attachment.ts';
import { TABLE } from './table.ts';

/** Upload slots, in the room's partition: pending ones carry the TTL attribute, attached ones none. */
export class DynamoAttachmentStore implements AttachmentStore {
  constructor(private readonly table: TableClient) {}

  async putPending(a: AttachmentRecord, expiresAt: string): Promise<void> {
    await this.table.put('putAttachment', { Item: attachment.toItem(a, expiresAt), ConditionExpression: 'attribute_not_exists(PK)' });
  }

  async getAttachments(roomId: string, ids: string[]): Promise<AttachmentRecord[]> {
    if (ids.length === 0) return [];
    const items = await this.table.batchGet('getAttachments', ids.map((id) => attachment.key(roomId, id)), { consistent: true });
    return items.map(attachment.fromItem);
  }

  /** A cancelled claim is a business outcome only when conditions cancelled it: a busy store is retried, then `unavailable`. */
  async claim(roomId: string, ids: string[], uploaderId: string, at: string): Promise<boolean> {
    const outcome = await this.table.transact(
      'claimAttachments',
      ids.map((id) => ({
        Update: {
          TableName: this.table.tableName,
          Key: attachment.key(roomId, id),
          UpdateExpression: 'SET #status = :attached, attachedAt = :at REMOVE #ttl',
          ConditionExpression: 'attribute_exists(PK) AND #status = :pending AND uploaderId = :uploader',
          ExpressionAttributeNames: { '#status': 'status', '#ttl': TABLE.ttlAttribute },
          ExpressionAttributeValues: { ':attached': 'attached', ':pending': 'pending', ':uploader': uploaderId, ':at': at },
        },
      })),
    );
    return outcome === true;
  }

  async markThumbnail(roomId: string, id: string): Promise<boolean> {
    const out = await unlessConditionFails(
      this.table.update('markThumbnail', {
        Key: attachment.key(roomId, id),
        UpdateExpression: 'SET thumbnail = :yes',
        ConditionExpression: 'attribute_exists(PK) AND #status = :attached',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':yes': true, ':attached': 'attached' },
      }),
    );
    return out !== false;
  }

  /**
   * Eventually consistent and projected to the id (half a read unit per small item). Keys still
   * unprocessed after the retries count as no thumbnail: a missing `thumbnailUrl` is harmless and
   * the next read has it.
   */
  async withThumbnails(refs: { roomId: string; id: string }[]): Promise<Set<string>> {
    const keys = refs.map((r) => attachment.key(r.roomId, r.id));
    const items = await this.table.batchGet('withThumbnails', keys, { consistent: false, projection: 'id, thumbnail', partial: true });
    return new Set(items.map(attachment.thumbnailOf).flatMap((t) => (t.made ? [t.id] : [])));
  }

  async remove(roomId: string, ids: string[]): Promise<void> {
    await this.table.batchWrite('removeAttachments', ids.map((id) => ({ DeleteRequest: { Key: attachment.key(roomId, id) } })));
  }
}
