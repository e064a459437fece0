import { httpHandler } from '#shared/adapters/apigw/http.ts';

/** `GET /me` */
export const handler = httpHandler(async (req) => ({ status: 200, body: req.user() }));
