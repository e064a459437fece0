/**
 * IAM as `npm start` evaluates it, as pure functions: which actions on which resources an SDK call
 * asks for (with the partition keys and attributes it touches), whether a role's statements allow
 * them, and the answer AWS gives when they do not.
 */
import { TABLE } from '#shared/adapters/dynamodb/table.ts';
import type { PolicyStatementJson } from '#infra/permissions.ts';

/** One authorization an SDK call needs: a transaction or a copy needs several. */
export interface IamRequest {
  action: string;
  resource: string;
  /**
   * Condition keys and their values: `dynamodb:LeadingKeys` every partition key touched,
   * `dynamodb:Attributes` every attribute named, `dynamodb:ReturnValues` what a write returns.
   */
  context: Record<string, readonly string[]>;
  /**
   * Keys AWS has a value for in this request that this check does not work out (a read's
   * attributes): a statement conditioned on one is an error here, never a guess either way.
   */
  unevaluated?: readonly string[];
  /** What the log line names: the key or object of the request. */
  detail: string;
}

/** Where the local runtime's resources are, for their ARNs. */
export interface LocalAwsNames {
  region: string;
  account: string;
  apiId: string;
  stage: string;
}

export const LOCAL_ACCOUNT = '000000000000';

/** The role session a function's calls are made under, as it appears in AWS's error messages. */
export const sessionArn = (account: string, fn: string): string => `arn:aws:sts::${account}:assumed-role/parley-${fn}-role/parley-${fn}`;

export const tableArn = (n: Pick<LocalAwsNames, 'region' | 'account'>, tableName: string): string =>
  `arn:aws:dynamodb:${n.region}:${n.account}:table/${tableName}`;
/** A secret's local ARN (AWS adds a random suffix to the name; so does this, fixed). */
export const secretArn = (n: Pick<LocalAwsNames, 'region' | 'account'>, name: string): string =>
  `arn:aws:secretsmanager:${n.region}:${n.account}:secret:parley-${name}-local0`;
export const objectArn = (bucket: string, key: string): string => `arn:aws:s3:::${bucket}/${key}`;
/** A local function's ARN: its name is `parley-<file of functions/>`. */
export const functionArn = (n: Pick<LocalAwsNames, 'region' | 'account'>, fn: string): string => `arn:aws:lambda:${n.region}:${n.account}:function:parley-${fn}`;
export const connectionsArn = (n: LocalAwsNames, method: string, connectionId: string): string =>
  `arn:aws:execute-api:${n.region}:${n.account}:${n.apiId}/${n.stage}/${method}/@connections/${connectionId}`;

type Av = Record<string, unknown>;

/** A key attribute's string value, from a marshalled (`{S: 'x'}`) or plain item. */
function keyValue(item: unknown, attribute: string): string | undefined {
  if (typeof item !== 'object' || item === null) return undefined;
  const v = (item as Av)[attribute];
  if (typeof v === 'string') return v;
  if (typeof v === 'object' && v !== null && typeof (v as Av).S === 'string') return (v as Av).S as string;
  return undefined;
}

const pk = (item: unknown) => keyValue(item, TABLE.partitionKey) ?? '';
const describeKey = (item: unknown) => `${pk(item)} / ${keyValue(item, TABLE.sortKey) ?? ''}`;

/**
 * The partition key value a Query's key condition names (`PK = :v` or `#n = :v`), which is what
 * `dynamodb:LeadingKeys` is compared with.
 */
function queryPartitionKey(input: Av): string | undefined {
  const expr = typeof input.KeyConditionExpression === 'string' ? input.KeyConditionExpression : '';
  const names = (input.ExpressionAttributeNames ?? {}) as Record<string, string>;
  const values = (input.ExpressionAttributeValues ?? {}) as Record<string, unknown>;
  for (const m of expr.matchAll(/(#?[A-Za-z0-9_]+)\s*=\s*(:[A-Za-z0-9_]+)/g)) {
    const name = m[1]!.startsWith('#') ? names[m[1]!] : m[1]!;
    if (name !== TABLE.partitionKey) continue;
    const value = values[m[2]!];
    if (typeof value === 'string') return value;
    if (typeof value === 'object' && value !== null && typeof (value as Av).S === 'string') return (value as Av).S as string;
  }
  return undefined;
}

const TRANSACT_WRITE_ACTIONS: Record<string, string> = {
  Put: 'dynamodb:PutItem',
  Update: 'dynamodb:UpdateItem',
  Delete: 'dynamodb:DeleteItem',
  ConditionCheck: 'dynamodb:ConditionCheckItem',
};

/** Words of update and condition expressions that are not attribute names. */
const EXPRESSION_WORDS = new Set(['SET', 'REMOVE', 'ADD', 'DELETE', 'AND', 'OR', 'NOT', 'BETWEEN', 'IN']);

/**
 * The top-level attribute names an update or condition expression refers to, which is what
 * `dynamodb:Attributes` lists: `a.b[0]` counts as `a`, `#n` as the name it stands for, a function
 * (`attribute_exists(PK)`, `if_not_exists(#v, :z)`) by its arguments.
 */
export function expressionAttributes(expression: unknown, names: unknown): string[] {
  if (typeof expression !== 'string') return [];
  const map = (typeof names === 'object' && names !== null ? names : {}) as Record<string, unknown>;
  const tokens = [...expression.matchAll(/#[A-Za-z0-9_]+|:[A-Za-z0-9_]+|[A-Za-z_][A-Za-z0-9_]*|\[\s*\d+\s*\]|\S/g)].map((m) => m[0]);
  const found: string[] = [];
  tokens.forEach((token, i) => {
    // A name after a dot is inside a map: its top-level attribute was counted already.
    if (tokens[i - 1] === '.') return;
    if (token.startsWith('#')) found.push(Object.hasOwn(map, token) ? String(map[token]) : token);
    else if (/^[A-Za-z_]/.test(token) && !EXPRESSION_WORDS.has(token.toUpperCase()) && tokens[i + 1] !== '(') found.push(token);
  });
  return found;
}

const namesOf = (map: unknown): string[] => (typeof map === 'object' && map !== null ? Object.keys(map) : []);

/**
 * Every attribute a write names, as `dynamodb:Attributes` has them: the key's (or the put
 * item's), the update expression's and the condition's (and their legacy forms).
 */
function writeAttributes(action: string, r: Av): string[] {
  const names = [
    ...namesOf(action === 'PutItem' ? r.Item : r.Key),
    ...expressionAttributes(r.UpdateExpression, r.ExpressionAttributeNames),
    ...expressionAttributes(r.ConditionExpression, r.ExpressionAttributeNames),
    ...namesOf(r.AttributeUpdates),
    ...namesOf(r.Expected),
  ];
  return [...new Set(names)];
}

/**
 * The authorizations a DynamoDB call needs. Batches are one action on each table with every key's
 * partition in the condition; a transaction is authorized item by item, by each item's own action.
 * A write's condition keys include the attributes it names and, for a single write, its
 * `ReturnValues` (`NONE` when unset, as AWS has it); a read's attributes are not worked out.
 */
export function dynamoRequests(names: LocalAwsNames, command: string, input: Av): IamRequest[] {
  const op = command.replace(/Command$/, '');
  const arn = (t: unknown) => tableArn(names, String(t));
  const READ_ONLY: Pick<IamRequest, 'unevaluated'> = { unevaluated: ['dynamodb:Attributes'] };
  const single = (action: string, tableName: unknown, items: unknown[], more: Partial<IamRequest> = {}): IamRequest => ({
    action: `dynamodb:${action}`,
    resource: arn(tableName),
    detail: items.map(describeKey).join(', ') || String(tableName),
    ...more,
    context: { 'dynamodb:LeadingKeys': [...new Set(items.map(pk))], ...more.context },
  });
  const write = (action: string, r: Av, inTransaction: boolean): IamRequest =>
    single(action, r.TableName, [action === 'PutItem' ? r.Item : r.Key], {
      context: {
        'dynamodb:Attributes': writeAttributes(action, r),
        ...(!inTransaction && action !== 'ConditionCheckItem' && { 'dynamodb:ReturnValues': [typeof r.ReturnValues === 'string' ? r.ReturnValues : 'NONE'] }),
      },
      // Whether AWS gives a transaction's items a ReturnValues is not documented: not guessed.
      ...(inTransaction && { unevaluated: ['dynamodb:ReturnValues'] }),
    });
  switch (op) {
    case 'GetItem':
      return [single(op, input.TableName, [input.Key], READ_ONLY)];
    case 'DeleteItem':
    case 'UpdateItem':
    case 'PutItem':
      return [write(op, input, false)];
    case 'Query': {
      const partition = queryPartitionKey(input);
      return [
        {
          action: 'dynamodb:Query',
          resource: input.IndexName ? `${arn(input.TableName)}/index/${String(input.IndexName)}` : arn(input.TableName),
          context: input.IndexName || partition === undefined ? {} : { 'dynamodb:LeadingKeys': [partition] },
          // A query of the table whose partition key this check cannot read is not let through by a leading-keys grant.
          unevaluated: ['dynamodb:Attributes', ...(input.IndexName || partition !== undefined ? [] : ['dynamodb:LeadingKeys'])],
          detail: `${input.IndexName ? `${String(input.IndexName)} ` : ''}${String(input.KeyConditionExpression ?? '')} (${partition ?? '?'})`,
        },
      ];
    }
    case 'Scan':
      return [{ action: 'dynamodb:Scan', resource: input.IndexName ? `${arn(input.TableName)}/index/${String(input.IndexName)}` : arn(input.TableName), context: {}, ...READ_ONLY, detail: String(input.TableName) }];
    case 'BatchGetItem':
      return Object.entries((input.RequestItems ?? {}) as Record<string, { Keys?: unknown[] }>).map(([t, r]) => single(op, t, r.Keys ?? [], READ_ONLY));
    case 'BatchWriteItem':
      return Object.entries((input.RequestItems ?? {}) as Record<string, { PutRequest?: { Item: unknown }; DeleteRequest?: { Key: unknown } }[]>).map(([t, reqs]) => {
        const items = reqs.map((r) => r.PutRequest?.Item ?? r.DeleteRequest?.Key);
        return single(op, t, items, { context: { 'dynamodb:Attributes': [...new Set(items.flatMap(namesOf))] } });
      });
    case 'TransactWriteItems':
      return ((input.TransactItems ?? []) as Record<string, Av>[]).flatMap((item) =>
        Object.entries(item)
          .filter(([kind]) => Object.hasOwn(TRANSACT_WRITE_ACTIONS, kind))
          .map(([kind, r]) => write(TRANSACT_WRITE_ACTIONS[kind]!.slice('dynamodb:'.length), r, true)),
      );
    case 'TransactGetItems':
      return ((input.TransactItems ?? []) as { Get: Av }[]).map(({ Get }) => single('GetItem', Get.TableName, [Get.Key], READ_ONLY));
    default:
      return [{ action: `dynamodb:${op}`, resource: input.TableName ? arn(input.TableName) : '*', context: {}, ...READ_ONLY, detail: String(input.TableName ?? '') }];
  }
}

/** The authorizations an S3 call needs (a copy reads its source and writes its target). */
export function s3Requests(command: string, input: Av): IamRequest[] {
  const op = command.replace(/Command$/, '');
  const obj = (action: string, bucket: unknown, key: unknown): IamRequest => ({
    action,
    resource: objectArn(String(bucket), String(key)),
    context: {},
    detail: `${String(bucket)}/${String(key)}`,
  });
  switch (op) {
    case 'GetObject':
    case 'HeadObject':
      return [obj('s3:GetObject', input.Bucket, input.Key)];
    case 'PutObject':
      return [obj('s3:PutObject', input.Bucket, input.Key)];
    case 'DeleteObject':
      return [obj('s3:DeleteObject', input.Bucket, input.Key)];
    case 'CopyObject': {
      const source = decodeURIComponent(String(input.CopySource ?? '').replace(/^\//, '').split('?')[0]!);
      const slash = source.indexOf('/');
      return [obj('s3:GetObject', source.slice(0, slash), source.slice(slash + 1)), obj('s3:PutObject', input.Bucket, input.Key)];
    }
    default:
      return [{ action: `s3:${op}`, resource: `arn:aws:s3:::${String(input.Bucket ?? '')}`, context: {}, detail: String(input.Bucket ?? '') }];
  }
}

const CONNECTION_METHODS: Record<string, string> = { PostToConnection: 'POST', GetConnection: 'GET', DeleteConnection: 'DELETE' };

/** `@connections` calls: all one action, on the connection's route. */
export function connectionRequests(names: LocalAwsNames, command: string, input: Av): IamRequest[] {
  const op = command.replace(/Command$/, '');
  const id = String(input.ConnectionId ?? '');
  return [{ action: 'execute-api:ManageConnections', resource: connectionsArn(names, CONNECTION_METHODS[op] ?? 'POST', id), context: {}, detail: `@connections/${id}` }];
}

/** Lambda `Invoke`: `lambda:InvokeFunction` on the function, named by ARN or by name (as AWS resolves it). */
export function lambdaRequests(names: Pick<LocalAwsNames, 'region' | 'account'>, command: string, input: Av): IamRequest[] {
  const name = String(input.FunctionName ?? '');
  const resource = name.startsWith('arn:') ? name.replace(/:(\$LATEST|\d+)$/, '') : `arn:aws:lambda:${names.region}:${names.account}:function:${name}`;
  const action = command === 'InvokeCommand' ? 'lambda:InvokeFunction' : `lambda:${command.replace(/Command$/, '')}`;
  return [{ action, resource, context: {}, detail: `function ${name}` }];
}

/** Secrets Manager calls: the action on the secret, named by ARN (or by name, as AWS resolves it). */
export function secretRequests(names: Pick<LocalAwsNames, 'region' | 'account'>, command: string, input: Av): IamRequest[] {
  const id = String(input.SecretId ?? '');
  const resource = id.startsWith('arn:') ? id : `arn:aws:secretsmanager:${names.region}:${names.account}:secret:${id}`;
  return [{ action: `secretsmanager:${command.replace(/Command$/, '')}`, resource, context: {}, detail: `secret ${id}` }];
}

/** An event bus's ARN from the name or ARN an entry gives (no name: the account's `default` bus). */
export const eventBusArn = (n: Pick<LocalAwsNames, 'region' | 'account'>, nameOrArn: string | undefined): string =>
  nameOrArn?.startsWith('arn:') ? nameOrArn : `arn:aws:events:${n.region}:${n.account}:event-bus/${nameOrArn || 'default'}`;

/** EventBridge calls: `events:PutEvents` on each bus the entries name, as IAM authorizes a put per bus. */
export function eventRequests(names: Pick<LocalAwsNames, 'region' | 'account'>, command: string, input: Av): IamRequest[] {
  const action = `events:${command.replace(/Command$/, '')}`;
  const entries = Array.isArray(input.Entries) ? (input.Entries as { EventBusName?: unknown }[]) : [];
  const buses = [...new Set(entries.map((e) => eventBusArn(names, typeof e.EventBusName === 'string' ? e.EventBusName : undefined)))];
  if (buses.length === 0) return [{ action, resource: '*', context: {}, detail: 'no entries' }];
  return buses.map((resource) => ({ action, resource, context: {}, detail: `${entries.length} event(s) to ${resource.split('/').pop()}` }));
}

/** Each policy pattern's expression, made once: the patterns are the stack's own, a few hundred at most. */
const compiled = new Map<string, RegExp>();

/** IAM wildcards: `*` any run of characters, `?` one character. Actions compare case-insensitively. */
function like(pattern: string, value: string, ignoreCase = false): boolean {
  const key = `${ignoreCase ? 'i' : 's'}${pattern}`;
  let re = compiled.get(key);
  if (!re) {
    const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    compiled.set(key, (re = new RegExp(`^${source}$`, ignoreCase ? 'is' : 's')));
  }
  return re.test(value);
}

/** The condition operators and keys this check evaluates; a policy using another cannot be checked here. */
const OPERATORS = new Set(['ForAllValues:StringLike', 'ForAllValues:StringEquals', 'StringLike', 'StringEquals']);
const CONDITION_KEYS = new Set(['dynamodb:LeadingKeys', 'dynamodb:Attributes', 'dynamodb:ReturnValues']);

/**
 * Throws unless every condition of `statements` is one this check evaluates: a key it does not
 * know would otherwise read as absent, which `ForAllValues` takes as a match (as AWS does for a
 * key truly absent), and let through what AWS refuses.
 */
export function assertEvaluable(statements: readonly PolicyStatementJson[]): void {
  for (const s of statements) {
    for (const [operator, keys] of Object.entries(s.Condition ?? {})) {
      if (!OPERATORS.has(operator)) throw new Error(`The local IAM check does not know the condition operator ${operator}`);
      for (const key of Object.keys(keys)) if (!CONDITION_KEYS.has(key)) throw new Error(`The local IAM check does not evaluate the condition key ${key}`);
    }
  }
}

/** Condition blocks already found evaluable (each is checked once, not on every request). */
const checked = new WeakSet<object>();

/**
 * Whether one statement's condition block holds for the request. A key the request has a value
 * for that this check does not work out throws, unless another part of the block fails anyway.
 */
function conditionHolds(condition: PolicyStatementJson['Condition'], request: IamRequest): boolean {
  if (!condition) return true;
  if (!checked.has(condition)) {
    assertEvaluable([{ Effect: 'Allow', Action: [], Resource: [], Condition: condition }]);
    checked.add(condition);
  }
  const undecided: string[] = [];
  for (const [operator, keys] of Object.entries(condition)) {
    for (const [key, patterns] of Object.entries(keys)) {
      if (request.unevaluated?.includes(key)) {
        undecided.push(key);
        continue;
      }
      const values = Object.hasOwn(request.context, key) ? request.context[key]! : [];
      switch (operator) {
        // Hold when every value matches (and, as in AWS, when there are none).
        case 'ForAllValues:StringLike':
          if (!values.every((v) => patterns.some((p) => like(p, v)))) return false;
          break;
        case 'ForAllValues:StringEquals':
          if (!values.every((v) => patterns.includes(v))) return false;
          break;
        case 'StringLike':
          if (values.length !== 1 || !patterns.some((p) => like(p, values[0]!))) return false;
          break;
        case 'StringEquals':
          if (values.length !== 1 || !patterns.includes(values[0]!)) return false;
          break;
      }
    }
  }
  if (undecided.length > 0) throw new Error(`The local IAM check cannot tell the ${undecided.join(' and ')} of ${request.action} (${request.detail})`);
  return true;
}

/** The index of the first statement that allows `request`, or -1 (no identity-based policy allows it). */
export function allowingStatement(statements: readonly PolicyStatementJson[], request: IamRequest): number {
  return statements.findIndex(
    (s) =>
      s.Action.some((a) => like(a, request.action, true)) &&
      s.Resource.some((r) => like(r, request.resource)) &&
      conditionHolds(s.Condition, request),
  );
}

/** AWS's wording when no identity-based policy allows an action. */
export const deniedMessage = (principal: string, request: Pick<IamRequest, 'action' | 'resource'>, quoteResource = false): string =>
  `User: ${principal} is not authorized to perform: ${request.action} on resource: ${quoteResource ? `"${request.resource}"` : request.resource} because no identity-based policy allows the ${request.action} action`;
