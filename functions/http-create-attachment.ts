import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { roomParams } from '#shared/schemas/common.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { createAttachmentBody } from '#shared/schemas/attachments.ts';
import { createUpload } from '#shared/domain/attachments.ts';
import { getDeps, withAttachments, withRateLimits } from './lib/deps.ts';

/** `POST /rooms/{roomId}/attachments` — 201 with a presigned PUT for the file (members only). */
export const handler = httpHandler(async (req) => {
  const { roomId } = parseOrThrow(roomParams, req.params, 'path');
  const input = parseOrThrow(createAttachmentBody, req.body() ?? {}, 'body');
  return { status: 201, body: await createUpload(getDeps(withAttachments, withRateLimits), req.user(), roomId, input) };
});
