import type { MemberRecord, MessageRecord } from '#shared/model.ts';
import { recordOf, type Item } from './table-client.ts';

/**
 * Message `metadata` is stored as its JSON text (a string attribute), not as a DynamoDB map: a
 * map cannot hold every object the API accepts (empty keys, nesting past DynamoDB's 32 levels,
 * numbers beyond its 38 digits such as 1e308 or 5e-324), and a `__proto__` key would not survive
 * the SDK's unmarshalling into a plain object. JSON.parse keeps such keys as own properties.
 * Items written before kept a map: those still read as they are.
 */
export function messageItem(m: MessageRecord): Item {
  return m.metadata === undefined ? { ...m } : { ...m, metadata: JSON.stringify(m.metadata) };
}

/** The message an item (read, or a stream image) stands for. */
export function messageRecord(item: Item): MessageRecord {
  const record = recordOf<MessageRecord & { metadata?: unknown }>(item);
  const stored = record.metadata;
  if (typeof stored === 'string') return { ...record, metadata: JSON.parse(stored) as Record<string, unknown> };
  return record;
}

/**
 * A member's recent clientMessageIds are a map on the member item. Each name carries this prefix,
 * so no clientMessageId (`__proto__` included) is ever a special property name when the SDK
 * unmarshalls the map into a plain object. Names written before the prefix read as they are.
 */
const SENT_PREFIX = '~';
export const sentName = (clientMessageId: string) => `${SENT_PREFIX}${clientMessageId}`;

/** The member an item (read, or a stream image) stands for, its `sent` map as a Map. */
export function memberRecord(item: Item): MemberRecord {
  const { sent, ...record } = recordOf<Omit<MemberRecord, 'sent'> & { sent?: unknown }>(item);
  const claims = new Map<string, string>();
  if (typeof sent === 'object' && sent !== null) {
    for (const [name, at] of Object.entries(sent)) {
      if (typeof at === 'string') claims.set(name.startsWith(SENT_PREFIX) ? name.slice(SENT_PREFIX.length) : name, at);
    }
  }
  return { ...record, sent: claims };
}

/** A new member item's attributes: an empty `sent` map, which a send's claim sets one name inside. */
export function newMemberAttributes(m: MemberRecord): Item {
  const { sent: _claims, ...record } = m;
  return { ...record, sent: {} };
}
