import { errorResult, parseFrame, type WsEvent, type WsResult } from '#shared/adapters/apigw/ws.ts';
import { validationFailed } from '#shared/errors.ts';
import { requestIdOf } from '#shared/schemas/frames.ts';

/** `$default`: frames that are not JSON, have no `type`, or a `type` no route knows. */
export async function handler(event: WsEvent): Promise<WsResult> {
  let requestId: string | undefined;
  try {
    const frame = parseFrame(event.body);
    requestId = requestIdOf(frame);
    const type = typeof frame === 'object' && frame !== null ? (frame as { type?: unknown }).type : undefined;
    throw validationFailed(
      typeof type === 'string' ? `Unknown frame type '${type.slice(0, 64)}'` : 'A frame is a JSON object with a string `type`',
    );
  } catch (err) {
    return errorResult(err, requestId, '$default');
  }
}
