import * as z from 'zod/mini';
import { _coercedNumber, _isoDateTime } from 'zod/v4/core';

/*
 * What keeps zod/mini small in a function's bundle. Through a namespace (`z.coerce`, `z.iso`)
 * esbuild keeps every member of it, with the bigint, date, time and duration schemas no function
 * uses: these two are built as zod/mini builds them. And esbuild drops a module's unused schema
 * only if its whole construction is marked pure: `z.string().check(...)` is a method call it cannot
 * judge, and it does not carry zod's own annotations from one module to another. So each module
 * builds its schemas through `/* @__PURE__ *\/ schema(...)`, and a bundle carries those it uses.
 */

/** `z.coerce.number(params)`: a number, or what `Number()` makes of the input. */
export const coercedNumber = (params?: string | z.core.$ZodNumberParams): z.ZodMiniNumber<unknown> => _coercedNumber(z.ZodMiniNumber, params);

/** `z.iso.datetime(params)`: an ISO 8601 date and time. */
export const isoDateTime = (params?: string | z.core.$ZodISODateTimeParams): z.ZodMiniISODateTime => _isoDateTime(z.ZodMiniISODateTime, params);

/**
 * `build()`, at once. Called with a pure annotation, the schema is left out of a bundle that never
 * uses it.
 * @example export const body = /* @__PURE__ *\/ schema(() => z.strictObject({ name: z.string() }).check(z.refine(ok)));
 */
export function schema<S>(build: () => S): S {
  return build();
}
