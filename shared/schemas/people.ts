import * as z from 'zod';
import { roomIdSchema, userIdSchema } from './common.ts';
import { MESSAGE_LIMITS, metadataSchema } from './messages.ts';
import { ROOM_LIMITS } from './rooms.ts';

/** Schemas of rooms and people: room settings, membership, presence, the service API. */

const roleSchema = z.enum(['admin', 'moderator', 'member']);
const displayNameSchema = z.string().trim().min(1).max(100);
const contextSchema = z.strictObject({ kind: z.string().min(1).max(64), id: z.string().min(1).max(128) });

export const updateRoomBody = z
  .strictObject({
    name: z.string().trim().min(1).max(ROOM_LIMITS.nameLength).optional(),
    description: z.string().max(ROOM_LIMITS.descriptionLength).optional(),
    visibility: z.enum(['private', 'public']).optional(),
    maxMembers: z.number().int().min(2).max(ROOM_LIMITS.maxMembersUpperBound).optional(),
  })
  .refine((b) => Object.values(b).some((v) => v !== undefined), { message: 'give at least one field to change' });
export type UpdateRoomInput = z.infer<typeof updateRoomBody>;

export const addMemberBody = z.strictObject({ userId: userIdSchema, role: roleSchema.optional(), displayName: displayNameSchema.optional() });
export type AddMemberInput = z.infer<typeof addMemberBody>;

export const changeRoleBody = z.strictObject({ role: roleSchema });

export const presenceStatusSchema = z.enum(['online', 'away', 'busy']);
export const setPresenceBody = z.strictObject({ status: presenceStatusSchema });
export const presenceSetFrame = z.strictObject({ type: z.literal('presence_set'), requestId: z.string().min(1).max(64).optional(), status: presenceStatusSchema });

export const presenceQuery = z.strictObject({
  userIds: z
    .string()
    .min(1)
    .transform((s) => [...new Set(s.split(',').map((x) => x.trim()).filter(Boolean))])
    .pipe(z.array(userIdSchema).min(1).max(100)),
});

export const serviceMemberSchema = z.strictObject({ userId: userIdSchema, displayName: displayNameSchema.optional(), role: roleSchema.optional() });
export type ServiceMember = z.infer<typeof serviceMemberSchema>;

export const serviceCreateRoomBody = z.strictObject({
  name: z.string().trim().min(1).max(ROOM_LIMITS.nameLength).optional(),
  description: z.string().max(ROOM_LIMITS.descriptionLength).optional(),
  visibility: z.enum(['private', 'public']).optional(),
  maxMembers: z.number().int().min(2).max(ROOM_LIMITS.maxMembersUpperBound).optional(),
  /** Required: the room is created once per context, so a retried create finds the first. */
  context: contextSchema,
  members: z.array(serviceMemberSchema).max(ROOM_LIMITS.maxMembersUpperBound).default([]),
});
export type ServiceCreateRoomInput = z.infer<typeof serviceCreateRoomBody>;

/** Custom message types are lower-case words; the user types `text`, `image`, `file` are not the service's. */
export const serviceMessageTypeSchema = z
  .string()
  .regex(/^[a-z][a-z0-9_]{0,31}$/, 'must be a lower-case word (a-z, 0-9, _), at most 32 characters')
  .refine((t) => !['text', 'image', 'file'].includes(t), 'text, image and file are sent by users');

export const servicePostMessageBody = z.strictObject({
  type: serviceMessageTypeSchema.default('system'),
  content: z.string().max(MESSAGE_LIMITS.contentHardLimit).default(''),
  metadata: metadataSchema.optional(),
  /** Shown as the sender; `system` when absent. */
  senderId: userIdSchema.optional(),
  senderName: displayNameSchema.optional(),
});
export type ServicePostMessageInput = z.infer<typeof servicePostMessageBody>;

export const memberParams = z.object({ roomId: roomIdSchema, userId: userIdSchema });
