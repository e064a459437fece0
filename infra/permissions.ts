/**
 * The one permission table: what each function of the route table may do in AWS. The CDK stack
 * turns every entry into an IAM statement of the function's role (infra/constructs/permissions.ts),
 * and `npm start` checks each AWS call a handler makes against the same statements
 * (infra/local/iam.ts), answering a call outside them the way AWS does. A grant is added for code
 * that needs it, with a test that uses it: the integration run reports grants nothing used.
 *
 * Resources are named by kind, not by ARN: each side resolves a kind to its own ARN (a CDK token
 * in the stack, a local ARN in `npm start`). A new kind of resource (a secret, an event bus) is one
 * more member of `ResourceRef`; TypeScript then asks both resolvers for its ARN.
 */
import { TABLE } from '#shared/adapters/dynamodb/table.ts';
import { COPY_ATTRIBUTES } from '#shared/adapters/dynamodb/entities/member.ts';
import { FILES_PREFIX, THUMBS_PREFIX, UPLOADS_PREFIX } from '#shared/domain/attachments.ts';
import { fanoutWorkerFn } from './routes.ts';

/** What a grant is on. */
export type ResourceRef =
  /** The items of the table (not its indexes). */
  | { kind: 'table' }
  /** One global secondary index of the table. */
  | { kind: 'index'; index: string }
  /** Objects of the attachments bucket whose keys start with `prefix`. */
  | { kind: 'objects'; prefix: string }
  /** Every connection of the WebSocket API's stage (`@connections`). */
  | { kind: 'connections' }
  /** One Secrets Manager secret the stack makes. */
  | { kind: 'secret'; name: SecretName }
  /** One function of the stack, by its file in functions/. */
  | { kind: 'function'; fn: string }
  /** The EventBridge bus outbound events go to (the stack's, or one named at deploy). */
  | { kind: 'event-bus' };

/** The stack's secrets: `cursor-key` signs page cursors; `vapid-seed` is what the Web Push key pair is derived from. */
export type SecretName = 'cursor-key' | 'vapid-seed';

export type ResourceKind = ResourceRef['kind'];

/** How one side names each kind of resource: an ARN (or ARN pattern) per reference. */
export type ArnResolver = { [K in ResourceKind]: (ref: Extract<ResourceRef, { kind: K }>) => string };

export interface Grant {
  actions: readonly string[];
  on: ResourceRef;
  /**
   * `dynamodb:LeadingKeys` patterns (IAM `StringLike`): every partition key the request touches
   * must match one. Only for table items; an index's partition key is not a leading key.
   */
  leadingKeys?: readonly string[];
  /**
   * `dynamodb:Attributes` (IAM `ForAllValues:StringEquals`): every attribute the request names
   * (its key's, its update expression's, its condition's) must be one of these, so the grant can
   * change these attributes of an item and no other. Only for `UpdateItem` (a put or a delete
   * replaces the whole item); the statement also holds `ReturnValues` to the updated attributes,
   * since `ALL_OLD`/`ALL_NEW` would read the rest back. List the key attributes: AWS counts them.
   */
  attributes?: readonly string[];
}

/** An IAM policy statement, as in a policy document. */
export interface PolicyStatementJson {
  Effect: 'Allow';
  Action: string[];
  Resource: string[];
  Condition?: Record<string, Record<string, string[]>>;
}

const table = { kind: 'table' } as const;
const gsi1 = { kind: 'index', index: TABLE.gsi1.name } as const;
const uploads = { kind: 'objects', prefix: UPLOADS_PREFIX } as const;
const files = { kind: 'objects', prefix: FILES_PREFIX } as const;
const thumbs = { kind: 'objects', prefix: THUMBS_PREFIX } as const;
const connections = { kind: 'connections' } as const;
const cursorKey = { kind: 'secret', name: 'cursor-key' } as const;
const vapidSeed = { kind: 'secret', name: 'vapid-seed' } as const;
const eventBus = { kind: 'event-bus' } as const;

/** Partitions of rooms: the room, its members, messages, reactions, changes, typing, attachments (`ROOM#<id>`). */
const ROOM_ITEMS = ['ROOM#*'] as const;
/** Partitions of users: presence items and rate counters (`USER#<id>`). */
const USER_ITEMS = ['USER#*'] as const;
/** Partitions of users' seats: each member's role, read marks, send window and claims (`SEAT#<id>`). */
const SEAT_ITEMS = ['SEAT#*'] as const;
/** Rooms' live lists: the open connections of each room's members (`LIVE#<roomId>`), nothing else of a room. */
const LIVE_LISTS = ['LIVE#*'] as const;
/** The table's markers (`META#<name>`). */
const MARKER_ITEMS = ['META#*'] as const;
/** Partitions of connection items (`CONN#<id>`). */
const CONNECTION_ITEMS = ['CONN#*'] as const;

const MANAGE_CONNECTIONS = ['execute-api:ManageConnections'] as const;

const dynamo = (...actions: string[]) => actions.map((a) => `dynamodb:${a}`);
/**
 * What `ReturnValues` an attribute-narrowed update may ask for: the attributes it updated, or
 * nothing (AWS's documented set; `ALL_OLD` and `ALL_NEW` would return attributes outside the list).
 */
export const NARROW_RETURN_VALUES = ['NONE', 'UPDATED_OLD', 'UPDATED_NEW'] as const;

/** Reads of table items (not narrowed: the views read rooms, members and presence together). */
const reads = (...actions: string[]): Grant => ({ actions: dynamo(...actions), on: table });
/** Writes confined to rooms' partitions: no user's presence, no connection item. */
const roomWrites = (...actions: string[]): Grant => ({ actions: dynamo(...actions), on: table, leadingKeys: ROOM_ITEMS });
/** Seats, written with the member items (created, role changed, removed) or by the member's sends and receipts. */
const seatWrites = (...actions: string[]): Grant => ({ actions: dynamo(...actions), on: table, leadingKeys: SEAT_ITEMS });
/**
 * A member stored before seats gets their seat on their first send or receipt: put only while
 * the member item is still there (a ConditionCheck of it in the same transaction).
 */
const seatFromMember: Grant[] = [seatWrites('PutItem'), roomWrites('ConditionCheckItem')];
/** The per-user rate counter every write (and search) takes from (shared/domain/rate-limit.ts). */
const rateCounter: Grant = { actions: dynamo('UpdateItem'), on: table, leadingKeys: USER_ITEMS };
/** Presence items: who is online, with which connections. */
const presenceWrites: Grant = { actions: dynamo('UpdateItem'), on: table, leadingKeys: USER_ITEMS };
/** A user's own items other than presence: notification preferences and push subscriptions. */
const userWrites = (...actions: string[]): Grant => ({ actions: dynamo(...actions), on: table, leadingKeys: USER_ITEMS });
/**
 * A change of a user's level is copied onto their member items (level-copies.ts), which their
 * seats list: a Query of their seats, an update in each room's partition.
 */
const listsSeats: Grant = { actions: dynamo('Query'), on: table, leadingKeys: SEAT_ITEMS };
/**
 * The copy itself: an update of a member item's copies (and the receipt mark a copy removes),
 * conditioned on the copy's version, and nothing else of any room item: not a message's content,
 * not a member's role. (The functions that add members write the same copies, but they put whole
 * member items anyway: a narrower update would narrow nothing.)
 */
const levelCopies: Grant = { actions: dynamo('UpdateItem'), on: table, leadingKeys: ROOM_ITEMS, attributes: [TABLE.partitionKey, TABLE.sortKey, ...COPY_ATTRIBUTES] };
const readsVapidSeed: Grant = { actions: ['secretsmanager:GetSecretValue'], on: vapidSeed };
const queryIndex: Grant = { actions: dynamo('Query'), on: gsi1 };
/** Functions that hand out or open page cursors read the key they are signed with, once per container. */
const readsCursorKey: Grant = { actions: ['secretsmanager:GetSecretValue'], on: cursorKey };

/** Message views carry presigned download URLs, which work only if the signer may read the objects. */
const presignsDownloads: Grant[] = [
  { actions: ['s3:GetObject'], on: files },
  { actions: ['s3:GetObject'], on: thumbs },
];

/**
 * A send: the sender's seat (rate window, clientMessageId claim, own read mark), the message put
 * at the next free seq, and its attachments copied from uploads/ to files/. No user-partition counter.
 */
const sendMessage: Grant[] = [
  reads('GetItem', 'BatchGetItem', 'Query'),
  roomWrites('PutItem', 'UpdateItem', 'BatchWriteItem'),
  seatWrites('UpdateItem'),
  ...seatFromMember,
  { actions: ['s3:GetObject', 's3:DeleteObject'], on: uploads },
  { actions: ['s3:PutObject'], on: files },
  ...presignsDownloads,
];
const editMessage: Grant[] = [reads('GetItem', 'BatchGetItem', 'Query'), roomWrites('PutItem', 'UpdateItem'), rateCounter, ...presignsDownloads];
/** A delete leaves a tombstone and removes the message's attachment records (their objects go by the clean-up consumer). */
const deleteMessage: Grant[] = [reads('GetItem', 'BatchGetItem'), roomWrites('PutItem', 'UpdateItem', 'BatchWriteItem'), rateCounter];
/** A first reaction above the room's `reactedSeq` raises it on the room item (UpdateItem). */
const addReaction: Grant[] = [reads('GetItem', 'BatchGetItem', 'Query'), roomWrites('PutItem', 'UpdateItem'), rateCounter, ...presignsDownloads];
const removeReaction: Grant[] = [reads('GetItem', 'BatchGetItem', 'Query'), roomWrites('PutItem', 'DeleteItem'), rateCounter, ...presignsDownloads];
/** A receipt: the seat and the room with its newest message; an older message is read by key. Nothing in the room is written. */
const markRead: Grant[] = [reads('GetItem', 'Query'), seatWrites('UpdateItem'), ...seatFromMember];
const setPresence: Grant[] = [reads('BatchGetItem'), presenceWrites];

/**
 * The table. Keys are function names (files of functions/, in the route table's order); a function
 * missing here may call nothing (`http-health`, `http-me`, `ws-authorizer`, `ws-default`, `ws-ping`).
 */
export const PERMISSIONS: Readonly<Record<string, readonly Grant[]>> = {
  // The user's seats (one Query), then each room with its newest message.
  // A direct room whose other member was added by id alone is named from their presence (a batch read).
  'http-list-rooms': [reads('BatchGetItem', 'Query'), readsCursorKey, ...presignsDownloads],
  // A room of 100 members or more is written as its item, then its members in batches (a transaction holds 100 items).
  // A direct room that exists already is read and answered (get-or-create).
  // Each member item carries copies of the member's preferences: their items are read (a batch), before and after.
  'http-create-room': [reads('GetItem', 'BatchGetItem'), roomWrites('PutItem', 'UpdateItem', 'BatchWriteItem'), seatWrites('PutItem', 'BatchWriteItem'), rateCounter],
  // The member item, and the room with its newest message in one query.
  'http-get-room': [reads('GetItem', 'Query')],
  // The newest page: the member item, then the room with the page in one query.
  'http-list-messages': [reads('GetItem', 'BatchGetItem', 'Query'), readsCursorKey, ...presignsDownloads],
  'http-send-message': sendMessage,
  'http-get-message': [reads('GetItem', 'BatchGetItem', 'Query'), ...presignsDownloads],
  'http-edit-message': editMessage,
  'http-delete-message': deleteMessage,
  'http-add-reaction': addReaction,
  'http-remove-reaction': removeReaction,
  'http-mark-read': markRead,
  'http-unread': [reads('Query')],
  'http-list-typing': [reads('BatchGetItem', 'Query')],
  'http-list-changes': [reads('BatchGetItem', 'Query'), readsCursorKey, ...presignsDownloads],
  // A search may read a thousand messages: it counts against its own rate limit.
  'http-search': [reads('BatchGetItem', 'Query'), rateCounter, readsCursorKey, ...presignsDownloads],
  'http-list-public-rooms': [reads('BatchGetItem'), queryIndex, readsCursorKey],
  'http-update-room': [reads('BatchGetItem'), roomWrites('UpdateItem'), rateCounter],
  'http-archive-room': [reads('GetItem', 'BatchGetItem', 'Query'), roomWrites('PutItem', 'UpdateItem'), rateCounter],
  'http-join-room': [reads('GetItem', 'BatchGetItem', 'Query'), roomWrites('PutItem', 'UpdateItem'), seatWrites('PutItem'), rateCounter],
  'http-list-members': [reads('BatchGetItem', 'Query')],
  'http-add-member': [reads('BatchGetItem', 'Query'), roomWrites('PutItem', 'UpdateItem'), seatWrites('PutItem'), rateCounter],
  'http-update-member': [reads('GetItem', 'BatchGetItem', 'Query'), roomWrites('PutItem', 'UpdateItem'), seatWrites('UpdateItem'), rateCounter],
  'http-remove-member': [reads('GetItem', 'BatchGetItem', 'Query'), roomWrites('PutItem', 'UpdateItem', 'DeleteItem'), seatWrites('DeleteItem'), rateCounter],
  'http-get-presence': [reads('BatchGetItem'), queryIndex],
  'http-set-presence': setPresence,
  // The host platform's calls: no user, so no rate counter.
  // A public room is listed on the public index by a second write to its item.
  'service-create-room': [reads('GetItem', 'BatchGetItem'), roomWrites('PutItem', 'UpdateItem', 'BatchWriteItem'), seatWrites('PutItem', 'BatchWriteItem')],
  'service-archive-room': [reads('GetItem', 'Query'), roomWrites('PutItem', 'UpdateItem')],
  'service-add-member': [reads('GetItem', 'BatchGetItem', 'Query'), roomWrites('PutItem', 'UpdateItem'), seatWrites('PutItem')],
  // Removing an admin first checks another stays (the member list); a member added without a name is named from their presence.
  'service-remove-member': [reads('GetItem', 'BatchGetItem', 'Query'), roomWrites('PutItem', 'UpdateItem', 'DeleteItem'), seatWrites('DeleteItem')],
  // The message is put at the next free seq (a query finds the newest); nothing else is written.
  'service-post-message': [reads('GetItem', 'Query'), roomWrites('PutItem')],
  // Presigns the upload into uploads/ (the client PUTs with that URL, as this function).
  'http-create-attachment': [reads('BatchGetItem'), roomWrites('PutItem'), rateCounter, { actions: ['s3:PutObject'], on: uploads }],

  // Notification preferences (mine, and mine per room) and Web Push subscriptions: the user's own
  // partition; a preference is then copied onto my member items (of every room I am in, listed by
  // my seats, or of the one room), in rooms' partitions.
  'http-get-preferences': [reads('GetItem')],
  'http-set-preferences': [userWrites('UpdateItem'), listsSeats, levelCopies],
  'http-get-room-preferences': [reads('GetItem', 'BatchGetItem')],
  'http-set-room-preferences': [reads('GetItem', 'BatchGetItem'), userWrites('UpdateItem'), levelCopies],
  'http-get-vapid-key': [readsVapidSeed],
  'http-put-push-subscription': [reads('Query'), userWrites('PutItem', 'DeleteItem')],
  'http-delete-push-subscription': [userWrites('DeleteItem')],

  // $connect lists the connection on its user's presence item, then stores the connection item.
  'ws-connect': [reads('BatchGetItem'), presenceWrites, { actions: dynamo('PutItem'), on: table, leadingKeys: CONNECTION_ITEMS }],
  'ws-disconnect': [presenceWrites, { actions: dynamo('DeleteItem'), on: table, leadingKeys: CONNECTION_ITEMS }],
  'ws-message-send': sendMessage,
  'ws-message-edit': editMessage,
  'ws-message-delete': deleteMessage,
  'ws-reaction-add': addReaction,
  'ws-reaction-remove': removeReaction,
  // Typing is relayed to the members' connections at once, not through the stream (the room's live
  // list, or its members' presence before the lists serve: a marker read once).
  'ws-typing': [reads('GetItem', 'BatchGetItem', 'Query'), roomWrites('PutItem', 'DeleteItem'), { actions: MANAGE_CONNECTIONS, on: connections }],
  'ws-read': markRead,
  'ws-presence-set': setPresence,

  // Fan-out reads rooms, members, their live lists and presence, posts to connections, and forgets
  // the connections API Gateway reports gone (410) or whose item expired: the connection item, and
  // its entry on the user's presence item. It keeps the rooms' live lists (partitions of their own,
  // the entries found from the user's seats or presence) and writes the marker of since when.
  'stream-fanout': [
    reads('GetItem', 'BatchGetItem', 'Query'),
    queryIndex,
    { actions: dynamo('BatchWriteItem'), on: table, leadingKeys: LIVE_LISTS },
    { actions: dynamo('PutItem'), on: table, leadingKeys: MARKER_ITEMS },
    { actions: dynamo('DeleteItem'), on: table, leadingKeys: CONNECTION_ITEMS },
    presenceWrites,
    // The seat a removal by a function deployed before seats left behind (room-events.ts).
    seatWrites('DeleteItem'),
    { actions: MANAGE_CONNECTIONS, on: connections },
    ...presignsDownloads,
    // A room too large for one invocation is split across workers.
    { actions: ['lambda:InvokeFunction'], on: { kind: 'function', fn: fanoutWorkerFn } },
  ],
  // A worker posts its share and forgets the connections that are gone, as the fan-out does.
  [fanoutWorkerFn]: [
    { actions: dynamo('DeleteItem'), on: table, leadingKeys: CONNECTION_ITEMS },
    presenceWrites,
    { actions: MANAGE_CONNECTIONS, on: connections },
  ],
  // Outbound events: every stored change to the bus; notifications read the room, its members,
  // their presence and seats (unread totals from the seats), keep the coalescing state and forget
  // gone push subscriptions in users' partitions, and sign pushes with the VAPID key.
  'stream-events': [
    reads('GetItem', 'BatchGetItem', 'Query'),
    userWrites('UpdateItem', 'DeleteItem'),
    { actions: ['events:PutEvents'], on: eventBus },
    readsVapidSeed,
  ],
  // Removed attachment records: their objects go.
  'stream-attachments': [{ actions: ['s3:DeleteObject'], on: uploads }, { actions: ['s3:DeleteObject'], on: files }, { actions: ['s3:DeleteObject'], on: thumbs }],
  // Reads attached files, writes thumbnails (and deletes one whose record went meanwhile), marks the attachment record.
  's3-thumbnail': [
    reads('BatchGetItem'),
    roomWrites('UpdateItem'),
    { actions: ['s3:GetObject'], on: files },
    { actions: ['s3:PutObject', 's3:DeleteObject'], on: thumbs },
  ],
};

/** The grants of `fn` (none for a function not in the table). */
export function grantsOf(fn: string): readonly Grant[] {
  return Object.hasOwn(PERMISSIONS, fn) ? PERMISSIONS[fn]! : [];
}

/** The functions granted a read of the secret `name` (their environment names its ARN). */
export function functionsReadingSecret(name: SecretName): string[] {
  return Object.keys(PERMISSIONS).filter((fn) => grantsOf(fn).some((g) => g.on.kind === 'secret' && g.on.name === name));
}

/** The IAM statements of `fn`'s role, one per grant, in table order. */
export function policyOf(fn: string, arn: ArnResolver): PolicyStatementJson[] {
  return grantsOf(fn).map((g) => statementOf(g, arn));
}

export function statementOf(grant: Grant, arn: ArnResolver): PolicyStatementJson {
  const resolve = arn[grant.on.kind] as (ref: ResourceRef) => string;
  if (grant.attributes && (grant.on.kind !== 'table' || grant.actions.some((a) => a !== 'dynamodb:UpdateItem'))) {
    throw new Error(`dynamodb:Attributes narrows UpdateItem on table items only, not ${grant.actions.join(', ')} on ${grant.on.kind}`);
  }
  const condition: NonNullable<PolicyStatementJson['Condition']> = {};
  if (grant.leadingKeys) condition['ForAllValues:StringLike'] = { 'dynamodb:LeadingKeys': [...grant.leadingKeys] };
  if (grant.attributes) {
    condition['ForAllValues:StringEquals'] = { 'dynamodb:Attributes': [...grant.attributes] };
    // StringEquals, not ...IfExists: an UpdateItem always has ReturnValues (NONE when unset).
    condition.StringEquals = { 'dynamodb:ReturnValues': [...NARROW_RETURN_VALUES] };
  }
  return {
    Effect: 'Allow',
    Action: [...grant.actions],
    Resource: [resolve(grant.on)],
    ...(Object.keys(condition).length > 0 && { Condition: condition }),
  };
}

/** A readable name of one action of one grant, as coverage reports list it. */
export function grantLabel(fn: string, grant: Grant, action: string): string {
  const on = grant.on;
  const where =
    on.kind === 'table'
      ? 'table'
      : on.kind === 'index'
        ? `index ${on.index}`
        : on.kind === 'objects'
          ? `objects ${on.prefix}*`
          : on.kind === 'secret'
            ? `secret ${on.name}`
            : on.kind === 'function'
              ? `function ${on.fn}`
              : on.kind === 'event-bus'
                ? 'event bus'
                : on.kind;
  return `${fn}: ${action} on ${where}${grant.leadingKeys ? ` (LeadingKeys ${grant.leadingKeys.join(', ')})` : ''}${grant.attributes ? ` (Attributes ${grant.attributes.join(', ')})` : ''}`;
}

/** Every (function, grant, action) of the table, by label. */
export function allGrantLabels(): string[] {
  return Object.entries(PERMISSIONS).flatMap(([fn, grants]) => grants.flatMap((g) => g.actions.map((a) => grantLabel(fn, g, a))));
}
