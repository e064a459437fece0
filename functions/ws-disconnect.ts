import type { WsEvent } from '#shared/adapters/apigw/ws.ts';
import { closeConnection } from '#shared/domain/connections.ts';
import { getDeps } from './lib/deps.ts';

/** `$disconnect`: API Gateway calls it on every close; it forgets the connection. */
export async function handler(event: WsEvent): Promise<{ statusCode: number }> {
  const { connectionId, authorizer } = event.requestContext;
  await closeConnection(getDeps(), { connectionId, ...(authorizer?.userId && { userId: authorizer.userId }) });
  return { statusCode: 200 };
}
