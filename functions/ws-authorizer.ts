import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { logger } from '#shared/logger.ts';
import { userFromClaims } from '#shared/domain/identity.ts';
import { getVerifier } from './lib/verifier.ts';


/**
 * The one token an upgrade request carries, from `?token=` and `Authorization: Bearer` headers.
 * Present in both places (or repeated) with different values, it is `'conflict'`: the upgrade is
 * refused rather than one of them picked, so a proxy or library that adds a credential can never
 * connect the socket as someone other than the client meant. An Authorization header that is not
 * `Bearer <token>` counts as a different value.
 */
export function connectTokenOf(event: Partial<Pick<APIGatewayRequestAuthorizerEvent, 'headers' | 'multiValueHeaders' | 'queryStringParameters' | 'multiValueQueryStringParameters'>>): string | 'conflict' | undefined {
  const queryTokens = event.multiValueQueryStringParameters?.token ?? (event.queryStringParameters?.token === undefined ? [] : [event.queryStringParameters.token]);
  // API Gateway keeps the client's spelling of header names.
  const headerValues = [event.multiValueHeaders, event.headers]
    .map((hs) => Object.entries(hs ?? {}).filter(([name]) => name.toLowerCase() === 'authorization').flatMap(([, v]) => (Array.isArray(v) ? v : [v ?? ''])))
    .find((values) => values.length > 0) ?? [];
  const headerTokens = headerValues.map((v: string) => /^Bearer\s+(\S+)\s*$/i.exec(v)?.[1] ?? v);
  const distinct = new Set([...queryTokens, ...headerTokens]);
  if (distinct.size > 1) return 'conflict';
  const [token] = distinct;
  return token || undefined;
}

/**
 * The WebSocket `$connect` REQUEST authorizer: a JWT from `?token=` (browsers) or an
 * `Authorization: Bearer` header (native clients), or both when they are the same token. Throwing
 * `Unauthorized` makes API Gateway answer 401; the context reaches every route of the connection.
 */
export async function handler(event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  const token = connectTokenOf(event);
  if (token === 'conflict') logger.info('Token refused', { reason: 'query and Authorization header disagree' });
  if (!token || token === 'conflict') throw new Error('Unauthorized');
  let user;
  try {
    user = userFromClaims(await getVerifier()(token));
  } catch (err) {
    logger.info('Token refused', { reason: (err as Error).message });
    throw new Error('Unauthorized');
  }
  return {
    principalId: user.userId,
    policyDocument: {
      Version: '2012-10-17',
      Statement: [{ Action: 'execute-api:Invoke', Effect: 'Allow', Resource: event.methodArn }],
    },
    context: { userId: user.userId, displayName: user.displayName },
  };
}
