import type { WsEvent } from '#shared/adapters/apigw/ws.ts';
import { closeConnection } from '#shared/domain/connections.ts';
import { getDeps, withConnections } from './lib/deps.ts';

/** `$disconnect`: API Gateway calls it on every close; it forgets the connection. */
export async function handler(event: WsEvent): Promise<{ statusCode: number }> {
  await closeConnection(getDeps(withConnections), event.requestContext.connectionId);
  return { statusCode: 200 };
}
