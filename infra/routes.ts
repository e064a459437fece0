/**
 * The one route table. The CDK stack creates a function, an integration and a route for each
 * entry; the local gateways route requests with the same entries to the same handler files.
 * `fn` names a file in functions/ (without `.ts`).
 */
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

/**
 * `jwt`: end-user token checked by the HTTP API's JWT authorizer.
 * `iam`: SigV4-signed by the host platform's back end (IAM authorization in AWS; the local gateway
 * checks the signature against its service credential). End-user tokens never open these routes.
 * `none`: open (health only).
 */
export type HttpAuth = 'jwt' | 'iam' | 'none';

export interface HttpRoute {
  method: HttpMethod;
  /** API Gateway path template, e.g. `/rooms/{roomId}/messages`. */
  path: string;
  fn: string;
  auth: HttpAuth;
  /**
   * A GET that takes from a per-user rate limit, so it writes the user's rate counter (search: one
   * request may read 1,000 messages). Other GETs only read.
   */
  rateLimited?: true;
}

export interface WsRoute {
  /** `$connect`, `$disconnect`, `$default`, or a frame `type` (route selection on `$request.body.type`). */
  routeKey: string;
  fn: string;
}

export const httpRoutes: readonly HttpRoute[] = [
  { method: 'GET', path: '/health', fn: 'http-health', auth: 'none' },
  { method: 'GET', path: '/me', fn: 'http-me', auth: 'jwt' },
  { method: 'GET', path: '/rooms', fn: 'http-list-rooms', auth: 'jwt' },
  { method: 'POST', path: '/rooms', fn: 'http-create-room', auth: 'jwt' },
  { method: 'GET', path: '/rooms/{roomId}', fn: 'http-get-room', auth: 'jwt' },
  { method: 'GET', path: '/rooms/{roomId}/messages', fn: 'http-list-messages', auth: 'jwt' },
  { method: 'POST', path: '/rooms/{roomId}/messages', fn: 'http-send-message', auth: 'jwt' },
  { method: 'GET', path: '/rooms/{roomId}/messages/{messageId}', fn: 'http-get-message', auth: 'jwt' },
  { method: 'PATCH', path: '/rooms/{roomId}/messages/{messageId}', fn: 'http-edit-message', auth: 'jwt' },
  { method: 'DELETE', path: '/rooms/{roomId}/messages/{messageId}', fn: 'http-delete-message', auth: 'jwt' },
  { method: 'PUT', path: '/rooms/{roomId}/messages/{messageId}/reactions/{emoji}', fn: 'http-add-reaction', auth: 'jwt' },
  { method: 'DELETE', path: '/rooms/{roomId}/messages/{messageId}/reactions/{emoji}', fn: 'http-remove-reaction', auth: 'jwt' },
  { method: 'POST', path: '/rooms/{roomId}/read', fn: 'http-mark-read', auth: 'jwt' },
  { method: 'GET', path: '/unread', fn: 'http-unread', auth: 'jwt' },
  { method: 'GET', path: '/rooms/{roomId}/typing', fn: 'http-list-typing', auth: 'jwt' },
  { method: 'GET', path: '/rooms/{roomId}/changes', fn: 'http-list-changes', auth: 'jwt' },
  { method: 'GET', path: '/search', fn: 'http-search', auth: 'jwt', rateLimited: true },
  // ---- rooms and people ----
  { method: 'GET', path: '/rooms/public', fn: 'http-list-public-rooms', auth: 'jwt' },
  { method: 'PATCH', path: '/rooms/{roomId}', fn: 'http-update-room', auth: 'jwt' },
  { method: 'DELETE', path: '/rooms/{roomId}', fn: 'http-archive-room', auth: 'jwt' },
  { method: 'POST', path: '/rooms/{roomId}/join', fn: 'http-join-room', auth: 'jwt' },
  { method: 'GET', path: '/rooms/{roomId}/members', fn: 'http-list-members', auth: 'jwt' },
  { method: 'POST', path: '/rooms/{roomId}/members', fn: 'http-add-member', auth: 'jwt' },
  { method: 'PATCH', path: '/rooms/{roomId}/members/{userId}', fn: 'http-update-member', auth: 'jwt' },
  { method: 'DELETE', path: '/rooms/{roomId}/members/{userId}', fn: 'http-remove-member', auth: 'jwt' },
  { method: 'GET', path: '/presence', fn: 'http-get-presence', auth: 'jwt' },
  { method: 'PUT', path: '/me/presence', fn: 'http-set-presence', auth: 'jwt' },
  { method: 'POST', path: '/service/rooms', fn: 'service-create-room', auth: 'iam' },
  { method: 'DELETE', path: '/service/rooms/{roomId}', fn: 'service-archive-room', auth: 'iam' },
  { method: 'POST', path: '/service/rooms/{roomId}/members', fn: 'service-add-member', auth: 'iam' },
  { method: 'DELETE', path: '/service/rooms/{roomId}/members/{userId}', fn: 'service-remove-member', auth: 'iam' },
  { method: 'POST', path: '/service/rooms/{roomId}/messages', fn: 'service-post-message', auth: 'iam' },
  { method: 'POST', path: '/rooms/{roomId}/attachments', fn: 'http-create-attachment', auth: 'jwt' },
  // ---- notifications ----
  { method: 'GET', path: '/me/preferences', fn: 'http-get-preferences', auth: 'jwt' },
  { method: 'PUT', path: '/me/preferences', fn: 'http-set-preferences', auth: 'jwt' },
  { method: 'GET', path: '/rooms/{roomId}/preferences', fn: 'http-get-room-preferences', auth: 'jwt' },
  { method: 'PUT', path: '/rooms/{roomId}/preferences', fn: 'http-set-room-preferences', auth: 'jwt' },
  { method: 'GET', path: '/push/vapid-key', fn: 'http-get-vapid-key', auth: 'jwt' },
  { method: 'PUT', path: '/me/push-subscriptions', fn: 'http-put-push-subscription', auth: 'jwt' },
  { method: 'DELETE', path: '/me/push-subscriptions', fn: 'http-delete-push-subscription', auth: 'jwt' },
];

export const wsRoutes: readonly WsRoute[] = [
  { routeKey: '$connect', fn: 'ws-connect' },
  { routeKey: '$disconnect', fn: 'ws-disconnect' },
  { routeKey: '$default', fn: 'ws-default' },
  { routeKey: 'ping', fn: 'ws-ping' },
  { routeKey: 'message_send', fn: 'ws-message-send' },
  { routeKey: 'message_edit', fn: 'ws-message-edit' },
  { routeKey: 'message_delete', fn: 'ws-message-delete' },
  { routeKey: 'reaction_add', fn: 'ws-reaction-add' },
  { routeKey: 'reaction_remove', fn: 'ws-reaction-remove' },
  { routeKey: 'typing', fn: 'ws-typing' },
  { routeKey: 'read', fn: 'ws-read' },
  { routeKey: 'presence_set', fn: 'ws-presence-set' },
];

/** The WebSocket API's `$connect` REQUEST authorizer. */
export const wsAuthorizerFn = 'ws-authorizer';
/** The DynamoDB Streams consumer that fans stored changes out to connections. */
export const streamFn = 'stream-fanout';
/** Posts one share of a large room's fan-out, invoked by the stream fan-out. */
export const fanoutWorkerFn = 'stream-fanout-worker';
/** The DynamoDB Streams consumer that deletes the objects of removed attachment records. */
export const attachmentStreamFn = 'stream-attachments';
/** The DynamoDB Streams consumer that publishes outbound events and asks for notifications (not the fan-out). */
export const eventsStreamFn = 'stream-events';
/** Fed by S3 `ObjectCreated` on `files/` (locally: by the S3 store's events): makes image thumbnails. */
export const thumbnailFn = 's3-thumbnail';

/**
 * A function's timeout, seconds: the stream consumers post a whole batch to many connections, the
 * thumbnail maker decodes large images, API handlers answer in time.
 */
export const functionTimeoutSeconds = (fn: string): number => (fn === streamFn || fn === eventsStreamFn ? 60 : fn === thumbnailFn ? 30 : 10);

/** Route selection expression of the WebSocket API. */
export const WS_ROUTE_SELECTION = '$request.body.type';

export const httpRouteKey = (r: Pick<HttpRoute, 'method' | 'path'>): string => `${r.method} ${r.path}`;

/** Every function file the stack deploys, in a stable order. */
export const allFunctions = (): string[] =>
  [...new Set([...httpRoutes.map((r) => r.fn), ...wsRoutes.map((r) => r.fn), wsAuthorizerFn, streamFn, fanoutWorkerFn, attachmentStreamFn, eventsStreamFn, thumbnailFn])];
