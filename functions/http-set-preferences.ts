import { httpHandler } from '#shared/adapters/apigw/http.ts';
import { parseOrThrow } from '#shared/schemas/parse.ts';
import { userPreferencesBody } from '#shared/schemas/notifications.ts';
import { setMyPreferences } from '#shared/domain/notifications.ts';
import { getPreferenceDeps } from './lib/preference-deps.ts';

/** `PUT /me/preferences` `{notify: all|mentions|none}` → `{notify}`: which messages may notify me when I am offline. */
export const handler = httpHandler(async (req) => {
  const { notify } = parseOrThrow(userPreferencesBody, req.body() ?? {}, 'body');
  return { status: 200, body: await setMyPreferences(getPreferenceDeps(), req.user(), notify) };
});
