import * as z from 'zod/mini';
import { cursorSchema, queryInt, userIdSchema } from './common.ts';

export const ROOM_LIMITS = {
  defaultMaxMembers: 100,
  maxMembersUpperBound: 1000,
  nameLength: 100,
  descriptionLength: 1000,
} as const;

const roomNameSchema = z.string().check(z.trim(), z.minLength(1), z.maxLength(ROOM_LIMITS.nameLength));
const roomDescriptionSchema = z.string().check(z.maxLength(ROOM_LIMITS.descriptionLength));
const visibilitySchema = z.enum(['private', 'public']);
const maxMembersSchema = z.number().check(z.int(), z.gte(2), z.lte(ROOM_LIMITS.maxMembersUpperBound));
const contextSchema = z.strictObject({
  kind: z.string().check(z.minLength(1), z.maxLength(64)),
  id: z.string().check(z.minLength(1), z.maxLength(128)),
});

export const createRoomBody = z
  .strictObject({
    type: z.enum(['group', 'direct']),
    name: z.optional(roomNameSchema),
    description: z.optional(roomDescriptionSchema),
    visibility: z.optional(visibilitySchema),
    memberIds: z._default(z.array(userIdSchema).check(z.maxLength(ROOM_LIMITS.maxMembersUpperBound)), []),
    maxMembers: z.optional(maxMembersSchema),
    context: z.optional(contextSchema),
  })
  .check(
    z.superRefine((body, ctx) => {
      if (body.type === 'direct') {
        if (body.name !== undefined) ctx.addIssue({ code: 'custom', path: ['name'], message: 'direct rooms have no name' });
        if (body.visibility === 'public') ctx.addIssue({ code: 'custom', path: ['visibility'], message: 'direct rooms are private' });
        if (body.maxMembers !== undefined) ctx.addIssue({ code: 'custom', path: ['maxMembers'], message: 'direct rooms have exactly two members' });
      }
    }),
  );
export type CreateRoomInput = z.infer<typeof createRoomBody>;

export const listQuery = z.strictObject({
  limit: z._default(queryInt(1, 100), 50),
  cursor: z.optional(cursorSchema),
});
