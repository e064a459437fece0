import * as z from 'zod/mini';
import { schema } from './mini.ts';
import { roomIdSchema, userIdSchema } from './common.ts';
import { MESSAGE_LIMITS, metadataSchema } from './messages.ts';
import { ROOM_LIMITS } from './rooms.ts';

/** Schemas of rooms and people: room settings, membership, presence, the service API. */

const roleSchema = /* @__PURE__ */ schema(() => z.enum(['admin', 'moderator', 'member']));
const displayNameSchema = /* @__PURE__ */ schema(() => z.string().check(z.trim(), z.minLength(1), z.maxLength(100)));
const contextSchema = /* @__PURE__ */ schema(() => z.strictObject({ kind: z.string().check(z.minLength(1), z.maxLength(64)), id: z.string().check(z.minLength(1), z.maxLength(128)) }));
const roomNameSchema = /* @__PURE__ */ schema(() => z.string().check(z.trim(), z.minLength(1), z.maxLength(ROOM_LIMITS.nameLength)));
const roomDescriptionSchema = /* @__PURE__ */ schema(() => z.string().check(z.maxLength(ROOM_LIMITS.descriptionLength)));
const maxMembersSchema = /* @__PURE__ */ schema(() => z.number().check(z.int(), z.gte(2), z.lte(ROOM_LIMITS.maxMembersUpperBound)));

export const updateRoomBody = /* @__PURE__ */ schema(() => z
  .strictObject({
    name: z.optional(roomNameSchema),
    description: z.optional(roomDescriptionSchema),
    visibility: z.optional(z.enum(['private', 'public'])),
    maxMembers: z.optional(maxMembersSchema),
  })
  .check(z.refine((b) => Object.values(b).some((v) => v !== undefined), { message: 'give at least one field to change' })));
export type UpdateRoomInput = z.infer<typeof updateRoomBody>;

export const addMemberBody = /* @__PURE__ */ schema(() => z.strictObject({ userId: userIdSchema, role: z.optional(roleSchema), displayName: z.optional(displayNameSchema) }));
export type AddMemberInput = z.infer<typeof addMemberBody>;

/**
 * `GET /rooms/{roomId}/members` takes no parameters: the list is one page (a room has at most
 * 1,000 members), so it hands out no cursor and accepts none.
 */
export const membersQuery = /* @__PURE__ */ schema(() => z.strictObject({}));

export const changeRoleBody = /* @__PURE__ */ schema(() => z.strictObject({ role: roleSchema }));

export const presenceStatusSchema = /* @__PURE__ */ schema(() => z.enum(['online', 'away', 'busy']));
export const setPresenceBody = /* @__PURE__ */ schema(() => z.strictObject({ status: presenceStatusSchema }));
export const presenceSetFrame = /* @__PURE__ */ schema(() => z.strictObject({
  type: z.literal('presence_set'),
  requestId: z.optional(z.string().check(z.minLength(1), z.maxLength(64))),
  status: presenceStatusSchema,
}));

export const presenceQuery = /* @__PURE__ */ schema(() => z.strictObject({
  userIds: z.pipe(
    z.pipe(
      z.string().check(z.minLength(1)),
      z.transform((s) => [...new Set(s.split(',').map((x) => x.trim()).filter(Boolean))]),
    ),
    z.array(userIdSchema).check(z.minLength(1), z.maxLength(100)),
  ),
}));

export const serviceMemberSchema = /* @__PURE__ */ schema(() => z.strictObject({ userId: userIdSchema, displayName: z.optional(displayNameSchema), role: z.optional(roleSchema) }));
export type ServiceMember = z.infer<typeof serviceMemberSchema>;

export const serviceCreateRoomBody = /* @__PURE__ */ schema(() => z.strictObject({
  name: z.optional(roomNameSchema),
  description: z.optional(roomDescriptionSchema),
  visibility: z.optional(z.enum(['private', 'public'])),
  maxMembers: z.optional(maxMembersSchema),
  /** Required: the room is created once per context, so a retried create finds the first. */
  context: contextSchema,
  members: z._default(z.array(serviceMemberSchema).check(z.maxLength(ROOM_LIMITS.maxMembersUpperBound)), []),
}));
export type ServiceCreateRoomInput = z.infer<typeof serviceCreateRoomBody>;

/** Custom message types are lower-case words; the user types `text`, `image`, `file` are not the service's. */
export const serviceMessageTypeSchema = /* @__PURE__ */ schema(() => z
  .string()
  .check(
    z.regex(/^[a-z][a-z0-9_]{0,31}$/, 'must be a lower-case word (a-z, 0-9, _), at most 32 characters'),
    z.refine((t) => !['text', 'image', 'file'].includes(t), 'text, image and file are sent by users'),
  ));

export const servicePostMessageBody = /* @__PURE__ */ schema(() => z.strictObject({
  type: z._default(serviceMessageTypeSchema, 'system'),
  content: z._default(z.string().check(z.maxLength(MESSAGE_LIMITS.contentHardLimit)), ''),
  metadata: z.optional(metadataSchema),
  /** Shown as the sender; `system` when absent. */
  senderId: z.optional(userIdSchema),
  senderName: z.optional(displayNameSchema),
}));
export type ServicePostMessageInput = z.infer<typeof servicePostMessageBody>;

export const memberParams = /* @__PURE__ */ schema(() => z.object({ roomId: roomIdSchema, userId: userIdSchema }));
