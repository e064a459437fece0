/**
 * The wire types of the API, taken from the server's own schemas and domain views with type-only
 * imports: nothing here exists at run time. The build expands them into plain declarations so the
 * published .d.ts stands alone.
 */
import type * as z from 'zod';
import type { MessageView, RoomView } from '#shared/domain/views.ts';
import type * as messages from '#shared/domain/messages.ts';
import type * as rooms from '#shared/domain/rooms.ts';
import type * as members from '#shared/domain/members.ts';
import type * as reactions from '#shared/domain/reactions.ts';
import type * as receipts from '#shared/domain/receipts.ts';
import type * as presence from '#shared/domain/presence.ts';
import type * as typing from '#shared/domain/typing.ts';
import type * as search from '#shared/domain/search.ts';
import type * as attachments from '#shared/domain/attachments.ts';
import type { createRoomBody, listQuery } from '#shared/schemas/rooms.ts';
import type { addMemberBody, changeRoleBody, updateRoomBody, presenceStatusSchema } from '#shared/schemas/people.ts';
import type { changesQuery, editMessageBody, historyQuery, sendMessageBody } from '#shared/schemas/messages.ts';
import type { createAttachmentBody } from '#shared/schemas/attachments.ts';
import type { searchQuery } from '#shared/schemas/search.ts';
import type * as notifications from '#shared/domain/notifications.ts';
import type { notifyLevelSchema, pushSubscriptionBody, roomPreferencesBody } from '#shared/schemas/notifications.ts';
import type { ServerFrame as ServerFrameUnion } from '#shared/schemas/frames.ts';

/** Query fields the server coerces from strings: numbers here. */
type Numeric<T, K extends keyof T> = Omit<T, K> & { [P in K]?: number };
type Out<F extends (...args: never[]) => unknown> = Awaited<ReturnType<F>>;

/** A stored message (CONTRACT §2). */
export type Message = MessageView;
/** A room as the server shows it. */
export type Room = RoomView;
/** One of my rooms in `GET /rooms`. */
export type MyRoom = rooms.MyRoom;
/** A page of a list: `{items, nextCursor?}`. */
export type Page<T> = { items: T[]; nextCursor?: string };
export type MessageWithReadBy = Out<typeof messages.getMessage>;
export type Changes = Out<typeof messages.listChanges>;
export type Member = members.MemberWithPresence;
export type MemberRecord = Out<typeof members.addMember>;
export type PublicRooms = Out<typeof members.listPublicRooms>;
export type ReactionResult = Out<typeof reactions.addReaction>;
export type ReadResult = Out<typeof receipts.markRead>;
export type Unread = Out<typeof rooms.listUnread>;
export type Typing = Out<typeof typing.listTyping>;
export type Presence = Out<typeof presence.setPresence>;
export type PresenceList = Out<typeof presence.getPresence>;
export type SearchResult = Out<typeof search.searchMessages>;
export type UploadTicket = attachments.UploadTicket;
export type Me = { userId: string; displayName: string };

export type CreateRoomInput = z.input<typeof createRoomBody>;
export type UpdateRoomInput = z.input<typeof updateRoomBody>;
export type AddMemberInput = z.input<typeof addMemberBody>;
export type Role = z.input<typeof changeRoleBody>['role'];
export type PresenceStatus = z.input<typeof presenceStatusSchema>;
export type SendMessageBody = z.input<typeof sendMessageBody>;
export type EditMessageBody = z.input<typeof editMessageBody>;
export type HistoryQuery = Numeric<z.input<typeof historyQuery>, 'limit' | 'beforeSeq' | 'afterSeq'>;
export type ChangesQuery = Numeric<z.input<typeof changesQuery>, 'limit'>;
export type ListQuery = Numeric<z.input<typeof listQuery>, 'limit'>;
export type SearchQuery = Numeric<z.input<typeof searchQuery>, 'limit'>;
export type AttachmentInput = z.input<typeof createAttachmentBody>;
/** Every frame the server sends. */
export type ServerFrame = ServerFrameUnion;

/** Which messages may notify me while I am offline. */
export type NotifyLevel = z.infer<typeof notifyLevelSchema>;
export type MyPreferences = Out<typeof notifications.getMyPreferences>;
export type RoomPreferences = Out<typeof notifications.getRoomPreferences>;
/** `null` clears a field: back to my default level, or no longer muted. */
export type RoomPreferencesInput = z.input<typeof roomPreferencesBody>;
/** The browser's `PushSubscription.toJSON()`. */
export type PushSubscriptionInput = z.input<typeof pushSubscriptionBody>;
export type PushSubscribed = Out<typeof notifications.subscribePush>;
