import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from 'aws-lambda';
import { logger } from '#shared/logger.ts';
import { userFromClaims } from '#shared/domain/identity.ts';
import { getVerifier } from './lib/verifier.ts';


/**
 * The WebSocket `$connect` REQUEST authorizer: a JWT from `?token=` (browsers) or an
 * `Authorization: Bearer` header (native clients). Throwing `Unauthorized` makes API Gateway
 * answer 401; the context reaches every route of the connection.
 */
export async function handler(event: APIGatewayRequestAuthorizerEvent): Promise<APIGatewayAuthorizerResult> {
  // API Gateway keeps the client's spelling of header names.
  const header = Object.entries(event.headers ?? {}).find(([name]) => name.toLowerCase() === 'authorization')?.[1];
  const token = event.queryStringParameters?.token ?? header?.match(/^Bearer\s+(\S+)$/i)?.[1];
  if (!token) throw new Error('Unauthorized');
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
