import * as z from 'zod';
import type { FanOutChunk } from '#shared/ports/fanout-workers.ts';

/** A fan-out worker's event (shared/ports/fanout-workers.ts): every frame index points at a frame. */
export const fanOutChunkSchema: z.ZodType<FanOutChunk> = z
  .object({
    frames: z.array(z.string().min(2)).min(1),
    targets: z.array(z.tuple([z.string().min(1), z.string().min(1), z.number().int().nonnegative()])).min(1),
  })
  .refine((c) => c.targets.every(([, , n]) => n < c.frames.length), { message: 'a target names a frame the chunk does not carry' });
