import { Reply, wsHandler } from '#shared/adapters/apigw/ws.ts';
import { pingFrame } from '#shared/schemas/frames.ts';

/** `ping` → `pong` (keeps the connection clear of API Gateway's 10-minute idle timeout). */
export const handler = wsHandler(pingFrame, async ({ requestId }) => new Reply({ type: 'pong', ...(requestId && { requestId }) }));
