import { httpHandler } from '#shared/adapters/apigw/http.ts';

/** `GET /health` — no auth, no I/O. */
export const handler = httpHandler(async () => ({ status: 200, body: { status: 'ok' } }));
