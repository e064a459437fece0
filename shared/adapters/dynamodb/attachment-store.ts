import type { AttachmentRecord } from '#shared/model.ts';
import type { AttachmentStore, ImageSize } from '#shared/ports/attachments.ts';
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

  async markThumbnail(roomId: string, id: string, size: ImageSize): Promise<boolean> {
    const out = await unlessConditionFails(
      this.table.update('markThumbnail', {
        Key: attachment.key(roomId, id),
        UpdateExpression: 'SET thumbnail = :yes, width = :w, height = :h',
        ConditionExpression: 'attribute_exists(PK) AND #status = :attached',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: { ':yes': true, ':w': size.width, ':h': size.height, ':attached': 'attached' },
      }),
    );
    return out !== false;
  }

  /**
   * Eventually consistent and projected to the id, the mark and the size (half a read unit per
   * small item). Keys still unprocessed after the retries count as no thumbnail: a missing
   * `thumbnailUrl` is harmless and the next read has it.
   */
  async withThumbnails(refs: { roomId: string; id: string }[]): Promise<Map<string, Partial<ImageSize>>> {
    const keys = refs.map((r) => attachment.key(r.roomId, r.id));
    const items = await this.table.batchGet('withThumbnails', keys, { consistent: false, projection: 'id, thumbnail, width, height', partial: true });
    return new Map(items.map(attachment.thumbnailOf).flatMap(({ id, made, ...size }) => (made ? [[id, size]] : [])));
  }

  async remove(roomId: string, ids: string[]): Promise<void> {
    await this.table.batchWrite('removeAttachments', ids.map((id) => ({ DeleteRequest: { Key: attachment.key(roomId, id) } })));
  }
}
