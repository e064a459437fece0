import { errorResult, userFromAuthorizer, type WsEvent, type WsResult } from '#shared/adapters/apigw/ws.ts';
import { AppError } from '#shared/errors.ts';
import { roomIdSchema } from '#shared/schemas/common.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { openConnection } from '#shared/domain/connections.ts';
import { getDeps, withConnections } from './lib/deps.ts';

/**
 * `$connect` (after the authorizer): records the connection; `?roomId=` scopes it to one room the
 * user belongs to. A non-2xx status refuses the upgrade with that status.
 */
export async function handler(event: WsEvent): Promise<WsResult> {
  try {
    const roomId = event.queryStringParameters?.roomId;
    const scope = roomId === undefined ? undefined : parseOrThrow(roomIdSchema, roomId, 'roomId');
    await openConnection(getDeps(withConnections), userFromAuthorizer(event), event.requestContext.connectionId, scope);
    return { statusCode: 200 };
  } catch (err) {
    return { ...errorResult(err, undefined, '$connect'), statusCode: err instanceof AppError ? err.status : 500 };
  }
}
