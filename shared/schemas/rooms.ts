import * as z from 'zod/mini';
import { schema } from './mini.ts';
import { cursorSchema, queryInt, userIdSchema } from './common.ts';

export const ROOM_LIMITS = {
  defaultMaxMembers: 100,
  maxMembersUpperBound: 1000,
  nameLength: 100,
  descriptionLength: 1000,
} as const;

const roomNameSchema = /* @__PURE__ */ schema(() => z.string().check(z.trim(), z.minLength(1), z.maxLength(ROOM_LIMITS.nameLength)));
const roomDescriptionSchema = /* @__PURE__ */ schema(() => z.string().check(z.maxLength(ROOM_LIMITS.descriptionLength)));
const visibilitySchema = /* @__PURE__ */ schema(() => z.enum(['private', 'public']));
const maxMembersSchema = /* @__PURE__ */ schema(() => z.number().check(z.int(), z.gte(2), z.lte(ROOM_LIMITS.maxMembersUpperBound)));
const contextSchema = /* @__PURE__ */ schema(() => z.strictObject({
  kind: z.string().check(z.minLength(1), z.maxLength(64)),
  id: z.string().check(z.minLength(1), z.maxLength(128)),
}));

export const createRoomBody = /* @__PURE__ */ schema(() => z
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
  ));
export type CreateRoomInput = z.infer<typeof createRoomBody>;

export const listQuery = /* @__PURE__ */ schema(() => z.strictObject({
  limit: z._default(queryInt(1, 100), 50),
  cursor: z.optional(cursorSchema),
}));
