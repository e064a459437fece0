import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { listUnread } from '#shared/domain/rooms.ts';
import { getDeps } from './lib/deps.ts';

/** `GET /unread` → `{total, rooms: [{roomId, unreadCount}]}` (rooms with something unread). */
export const handler = httpHandler(async (req) => ({ status: 200, body: await listUnread(getDeps(), req.user()) }));
