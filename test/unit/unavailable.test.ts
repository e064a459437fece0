import { describe, expect, it } from 'vitest';
import type { APIGatewayProxyEventV2WithJWTAuthorizer, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { TransactionConflictException } from '@aws-sdk/client-dynamodb';
import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { errorResult } from '#shared/adapters/apigw/ws.ts';
import { STORE_RETRY, StoreFault, withStoreRetries } from '#shared/adapters/dynamodb/store-errors.ts';

// How each transport's one mapper answers a store that stayed busy, and a store fault.
const event = { routeKey: 'POST /rooms/{roomId}/messages', body: '{}', isBase64Encoded: false, requestContext: {} } as unknown as APIGatewayProxyEventV2WithJWTAuthorizer;
const meta = { httpStatusCode: 400, attempts: 1, totalRetryDelay: 0 };
const busy = () => withStoreRetries('nextSeq', async () => Promise.reject(new TransactionConflictException({ message: 'Transaction is ongoing for the item', $metadata: meta })), async () => undefined);
const fault = () => Promise.reject(new StoreFault('putMessage', Object.assign(new Error('Item size has exceeded the maximum allowed size'), { name: 'ValidationException' })));

describe('a busy store', () => {
  it('is HTTP 503 unavailable with Retry-After, and no DynamoDB text', async () => {
    const res = (await httpHandler(busy)(event)) as APIGatewayProxyStructuredResultV2;
    expect(res.statusCode).toBe(503);
    expect(res.headers?.['retry-after']).toBe(String(STORE_RETRY.retryAfterSeconds));
    const body = JSON.parse(res.body!);
    expect(body.error.code).toBe('unavailable');
    expect(res.body).not.toMatch(/Transaction|ongoing|Dynamo/);
  });

  it('is a WebSocket error frame with code unavailable and retryAfter', async () => {
    const err = await busy().catch((e: unknown) => e);
    const frame = JSON.parse(errorResult(err, 'r1', 'message_send').body!);
    expect(frame).toMatchObject({ type: 'error', code: 'unavailable', requestId: 'r1', retryAfter: STORE_RETRY.retryAfterSeconds });
    expect(JSON.stringify(frame)).not.toMatch(/Transaction|ongoing|Dynamo/);
  });
});

describe('a store fault', () => {
  it('is 500 internal over HTTP and an internal error frame, its text kept back', async () => {
    const res = (await httpHandler(fault)(event)) as APIGatewayProxyStructuredResultV2;
    expect(res.statusCode).toBe(500);
    expect(JSON.parse(res.body!)).toEqual({ error: { code: 'internal', message: 'Internal error' } });
    expect(res.headers?.['retry-after']).toBeUndefined();
    const frame = JSON.parse(errorResult(await fault().catch((e: unknown) => e), undefined, 'message_send').body!);
    expect(frame).toEqual({ type: 'error', code: 'internal', message: 'Internal error' });
  });
});
