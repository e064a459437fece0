import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { roomParams } from '#shared/schemas/common.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { servicePostMessageBody } from '#shared/schemas/people.ts';
import { servicePostMessage } from '#shared/domain/service.ts';
import { getDeps } from './lib/deps.ts';

/** `POST /service/rooms/{roomId}/messages` (IAM) — a `system` or custom-typed message → 201. */
export const handler = httpHandler(async (req) => {
  const { roomId } = parseOrThrow(roomParams, req.params, 'path');
  const input = parseOrThrow(servicePostMessageBody, req.body() ?? {}, 'body');
  return { status: 201, body: await servicePostMessage(getDeps(), roomId, input) };
});
