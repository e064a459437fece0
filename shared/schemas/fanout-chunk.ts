import * as z from 'zod/mini';
import { schema } from './mini.ts';
import type { FanOutChunk } from '#shared/ports/fanout-workers.ts';

/** A fan-out worker's event (shared/ports/fanout-workers.ts): every frame index points at a frame. */
export const fanOutChunkSchema: z.ZodMiniType<FanOutChunk> = /* @__PURE__ */ schema(() => z
  .object({
    frames: z.array(z.string().check(z.minLength(2))).check(z.minLength(1)),
    targets: z
      .array(z.tuple([z.string().check(z.minLength(1)), z.string().check(z.minLength(1)), z.number().check(z.int(), z.nonnegative())]))
      .check(z.minLength(1)),
  })
  .check(z.refine((c) => c.targets.every(([, , n]) => n < c.frames.length), { message: 'a target names a frame the chunk does not carry' })));
