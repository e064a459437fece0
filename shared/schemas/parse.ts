import * as z from 'zod/mini';
import en from 'zod/v4/locales/en.js';
import { validationFailed } from '#shared/errors.ts';

/*
 * zod's English messages (2.7 KB of a bundle), for the clients reading `details`: loaded with the
 * parser of what clients send, so a function that parses no client input (the stream consumers)
 * carries none. Its table items' checks (entities) then name the field and zod's bare "Invalid
 * input", in its own logs only.
 */
z.config(en());

/** Parses `input` or throws `validation_failed` listing each bad field. */
export function parseOrThrow<T>(schema: z.ZodMiniType<T>, input: unknown, what = 'request'): T {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  const issues = result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message }));
  const first = issues[0];
  throw validationFailed(
    first ? `Invalid ${what}: ${first.path ? `${first.path}: ` : ''}${first.message}` : `Invalid ${what}`,
    { issues },
  );
}
