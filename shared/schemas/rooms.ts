import * as z from 'zod';
import { cursorSchema, userIdSchema } from './common.ts';

export const ROOM_LIMITS = {
  defaultMaxMembers: 100,
  maxMembersUpperBound: 1000,
  nameLength: 100,
  descriptionLength: 1000,
} as const;

export const createRoomBody = z
  .strictObject({
    type: z.enum(['group', 'direct']),
    name: z.string().trim().min(1).max(ROOM_LIMITS.nameLength).optional(),
    description: z.string().max(ROOM_LIMITS.descriptionLength).optional(),
    visibility: z.enum(['private', 'public']).optional(),
    memberIds: z.array(userIdSchema).max(ROOM_LIMITS.maxMembersUpperBound).default([]),
    maxMembers: z.number().int().min(2).max(ROOM_LIMITS.maxMembersUpperBound).optional(),
    context: z.strictObject({ kind: z.string().min(1).max(64), id: z.string().min(1).max(128) }).optional(),
  })
  .superRefine((body, ctx) => {
    if (body.type === 'direct') {
      if (body.name !== undefined) ctx.addIssue({ code: 'custom', path: ['name'], message: 'direct rooms have no name' });
      if (body.visibility === 'public') ctx.addIssue({ code: 'custom', path: ['visibility'], message: 'direct rooms are private' });
      if (body.maxMembers !== undefined) ctx.addIssue({ code: 'custom', path: ['maxMembers'], message: 'direct rooms have exactly two members' });
    }
  });
export type CreateRoomInput = z.infer<typeof createRoomBody>;

export const listQuery = z.strictObject({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: cursorSchema.optional(),
});
