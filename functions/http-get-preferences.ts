import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { getMyPreferences } from '#shared/domain/notifications.ts';
import { getPreferenceDeps } from './lib/preference-deps.ts';

/** `GET /me/preferences` → `{notify}`: my default notification level (`mentions` until I choose). */
export const handler = httpHandler(async (req) => ({ status: 200, body: await getMyPreferences(getPreferenceDeps(), req.user()) }));
