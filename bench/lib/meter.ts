import { type DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { marshall } from '@aws-sdk/util-dynamodb';
import { itemBytes, meterCapacity, writeUnits, type CapacityListener, type CapacityReading } from '#shared/adapters/dynamodb/capacity.ts';
import type { DepsOptions } from '#functions/lib/compose.ts';
import { TABLE, tableSchema } from '#shared/adapters/dynamodb/table.ts';

export interface Post {
  at: number;
  connectionId: string;
  type: string;
}

/**
 * Everything the in-process handlers did: DynamoDB calls and PostToConnection calls. Its
 * `observers` go to the composition root (`configureDeps`) before the handlers first run.
 */
export class Recorder {
  private readings: CapacityReading[] = [];
  private posts: Post[] = [];
  private readonly taps = new Set<CapacityListener>();

  readonly observers: Pick<DepsOptions, 'meter' | 'onPost'> = {
    meter: meterCapacity((reading) => {
      this.readings.push(reading);
      for (const tap of this.taps) tap(reading);
    }),
    onPost: (connectionId, frame, at) => this.posts.push({ at: at ?? performance.now(), connectionId, type: frame.type }),
  };

  /** Also hands every reading to `listener`, until the returned function is called. */
  tap(listener: CapacityListener): () => void {
    this.taps.add(listener);
    return () => this.taps.delete(listener);
  }

  /** What was heard since the last call, and forget it. */
  take(): { readings: CapacityReading[]; posts: Post[] } {
    const out = { readings: this.readings, posts: this.posts };
    this.readings = [];
    this.posts = [];
    return out;
  }

  close(): void {
    this.taps.clear();
  }
}

export interface Units {
  readTable: number;
  readGsi: number;
  writeTable: number;
  writeGsi: number;
}

export const noUnits = (): Units => ({ readTable: 0, readGsi: 0, writeTable: 0, writeGsi: 0 });
export const addUnits = (a: Units, b: Units): Units => ({
  readTable: a.readTable + b.readTable,
  readGsi: a.readGsi + b.readGsi,
  writeTable: a.writeTable + b.writeTable,
  writeGsi: a.writeGsi + b.writeGsi,
});
export const reads = (u: Units) => u.readTable + u.readGsi;
export const writes = (u: Units) => u.writeTable + u.writeGsi;

/** One metered call: what DynamoDB Local reported, and what AWS would charge where the two differ. */
export interface Call {
  operation: string;
  command: string;
  kind: 'read' | 'write';
  local: Units;
  aws: Units;
  /** Why `aws` differs from `local`, if it does. */
  awsNote?: string;
}

const READ_COMMANDS = new Set(['GetItemCommand', 'BatchGetItemCommand', 'QueryCommand', 'ScanCommand', 'TransactGetItemsCommand']);
const gsi = tableSchema.globalSecondaryIndexes[0];
const GSI_KEYS = [TABLE.gsi1.partitionKey, TABLE.gsi1.sortKey];
const TABLE_KEYS = [TABLE.partitionKey, TABLE.sortKey];

function localUnits(reading: CapacityReading, kind: Call['kind']): Units {
  let table = 0;
  let index = 0;
  for (const c of reading.consumed) {
    const onIndexes = Object.values(c.GlobalSecondaryIndexes ?? {}).reduce((sum, i) => sum + (i.CapacityUnits ?? 0), 0);
    index += onIndexes;
    table += c.Table?.CapacityUnits ?? (c.CapacityUnits ?? 0) - onIndexes;
  }
  return kind === 'read' ? { ...noUnits(), readTable: table, readGsi: index } : { ...noUnits(), writeTable: table, writeGsi: index };
}

/**
 * Turns readings into calls, with AWS's figure beside DynamoDB Local's where Local is known to
 * differ (docs/performance.md): an empty Query, and each missing key of a BatchGetItem, costs AWS
 * one minimum read (Local says 0), and an
 * UpdateItem that changes an attribute projected into GSI1 also writes the index entry (Local
 * reports no index units). The second needs the item, read back with `client` (not metered).
 */
export async function toCalls(readings: readonly CapacityReading[], client: DynamoDBClient, tableName: string): Promise<Call[]> {
  return Promise.all(
    readings.map(async (r): Promise<Call> => {
      const kind = READ_COMMANDS.has(r.command) ? 'read' : 'write';
      const local = localUnits(r, kind);
      const call: Call = { operation: r.operation, command: r.command.replace(/Command$/, ''), kind, local, aws: local };
      if (r.conditionFailed) {
        call.aws = { ...local, writeTable: r.conditionFailed.writeUnits };
        call.awsNote = 'a write whose condition failed still costs its units (Local reports none)';
        return call;
      }
      if (kind === 'read' && reads(local) === 0 && r.command === 'QueryCommand') {
        const min = r.input.ConsistentRead ? 1 : 0.5;
        call.aws = r.input.IndexName ? { ...local, readGsi: min } : { ...local, readTable: min };
        call.awsNote = 'an empty Query still costs one read unit';
      }
      if (r.command === 'BatchGetItemCommand') {
        // AWS charges every requested key at least one minimum read, found or not; Local charges
        // found items only. Exact while items are under 4 KB, as the ones batch-read here are.
        const requests = Object.values((r.input.RequestItems ?? {}) as Record<string, { Keys?: unknown[]; ConsistentRead?: boolean }>);
        const floor = requests.reduce((sum, q) => sum + (q.Keys?.length ?? 0) * (q.ConsistentRead ? 1 : 0.5), 0);
        if (floor > local.readTable) {
          call.aws = { ...local, readTable: floor };
          call.awsNote = 'a key found missing still costs one minimum read';
        }
      }
      if (r.command === 'UpdateItemCommand' && local.writeGsi === 0 && updatesProjectedAttribute(r.input)) {
        // The middleware sees the request before the document client marshalls it: plain values.
        const { Item } = await client
          .send(new GetItemCommand({ TableName: tableName, Key: marshall(r.input.Key as Record<string, unknown>) }))
          .catch((err: unknown) => {
            throw new Error(`reading back the item of ${r.operation} ${JSON.stringify(r.input.Key)}: ${String(err)}`);
          });
        if (Item && GSI_KEYS.every((k) => Item[k])) {
          call.aws = { ...local, writeGsi: writeUnits(itemBytes(Item, projected)) };
          call.awsNote = 'the update changes an attribute projected into GSI1';
        }
      }
      return call;
    }),
  );
}

function projected(attribute: string): boolean {
  if (!gsi) return false;
  const keys = [...TABLE_KEYS, ...GSI_KEYS] as string[];
  const p = gsi.Projection as { ProjectionType: string; NonKeyAttributes?: readonly string[] };
  if (p.ProjectionType === 'ALL') return true;
  return keys.includes(attribute) || (p.ProjectionType === 'INCLUDE' && (p.NonKeyAttributes ?? []).includes(attribute));
}

/** The top-level attributes an UpdateExpression sets, removes, adds or deletes. */
function updatedAttributes(input: Record<string, unknown>): string[] {
  const expr = String(input.UpdateExpression ?? '');
  const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
  const paths: string[] = [];
  for (const [, action, body] of expr.matchAll(/\b(SET|REMOVE|ADD|DELETE)\b([\s\S]*?)(?=\b(?:SET|REMOVE|ADD|DELETE)\b|$)/gi)) {
    if (action!.toUpperCase() === 'SET') for (const m of body!.matchAll(/(?:^|,)\s*([#\w.[\]]+)\s*=/g)) paths.push(m[1]!);
    else for (const part of body!.split(',')) paths.push(part.trim().split(/\s+/)[0]!);
  }
  return paths.filter(Boolean).map((p) => {
    const top = p.split(/[.[]/)[0]!;
    return names[top] ?? top;
  });
}

const updatesProjectedAttribute = (input: Record<string, unknown>) => updatedAttributes(input).some(projected);
