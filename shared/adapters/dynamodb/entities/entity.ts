import type * as z from 'zod/mini';
import { TABLE, type EntityType } from '#shared/adapters/dynamodb/table.ts';

/** An item as the document client reads and writes it. */
export type Item = Record<string, unknown>;

/** A table key (a type, not an interface: it must fit where any item does). */
export type Key = {
  PK: string;
  SK: string;
};

/**
 * The record an item stands for, checked against its entity's schema. The schema lists the
 * record's fields only, so keys and bookkeeping attributes (entity type, TTL, stream marks) are
 * left out. An item of another shape is a fault of the writer, never a client's error: it throws.
 */
export function parseItem<T>(entity: EntityType, schema: z.ZodMiniType<T>, item: Item): T {
  const parsed = schema.safeParse(item);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  throw new Error(`Malformed ${entity} item${issue ? ` (${issue.path.join('.') || 'item'}: ${issue.message})` : ''}`);
}

/**
 * A schema built on its first use rather than with its module: a table-backed function loads every
 * entity with its stores, and a call parses one or two of them (building zod schemas is most of
 * what the entities cost a cold start).
 */
export function lazySchema<S>(build: () => S): () => S {
  let schema: S | undefined;
  return () => (schema ??= build());
}

/** An item: its key, its entity type, the record's attributes and any bookkeeping ones. */
export function itemOf(entity: EntityType, key: object, record: object, extra: Item = {}): Item {
  return { ...key, [TABLE.entityAttribute]: entity, ...record, ...extra };
}

/** The entity type an item was written as. */
export const entityOf = (item: Item): unknown => item[TABLE.entityAttribute];

/** Seconds since the epoch, as DynamoDB's TTL attribute wants them. */
export const epochSeconds = (iso: string) => Math.floor(Date.parse(iso) / 1000);
