import { z } from "zod";

export const MAX_MESSAGE_LENGTH = 2000;

export const messageId = z.uuid({ error: "Message id must be a UUID" });

export const messageText = z
  .string({ error: "Message text is required" })
  .trim()
  .min(1, { error: "Message cannot be empty" })
  .max(MAX_MESSAGE_LENGTH, {
    error: `Message is too long: at most ${MAX_MESSAGE_LENGTH} characters`,
  });

export const playerId = z.coerce
  .number({ error: "Player ID must be a number" })
  .int({ error: "Player ID must be a whole number" })
  .positive({ error: "Player ID must be positive" });

/** Unknown fields are refused: a typo in a client must not be silently ignored. */
export const sendMessageInput = z.strictObject({ id: messageId, text: messageText });
export type SendMessageInput = z.infer<typeof sendMessageInput>;

export const replyInput = z.strictObject({
  requestId: z.uuid({ error: "Request id must be a UUID" }),
  id: messageId,
  text: messageText,
});
export type ReplyInput = z.infer<typeof replyInput>;

export const threadPageInput = z.strictObject({
  /** Keyset cursor (named `cursor` for infinite queries): messages with seq below this. */
  cursor: z.number().int().positive().nullish(),
  limit: z.number().int().min(1).max(200).default(50),
  /** Sent by tRPC's infinite queries; pages only go backwards in time here. */
  direction: z.enum(["forward", "backward"]).optional(),
});

export const sinceInput = z.strictObject({
  /** The last seq the client has; returns everything after it. */
  sinceSeq: z.number().int().min(0),
  limit: z.number().int().min(1).max(500).default(200),
});

export const requestIdInput = z.strictObject({ requestId: z.uuid({ error: "Request id must be a UUID" }) });

export const transferInput = requestIdInput.extend({ toUserId: z.string().min(1).max(128) });

export const noteInput = requestIdInput.extend({
  text: z.string().trim().min(1, "Write a note first").max(4000, "Notes are at most 4,000 characters"),
});

export const cannedReplyInput = z.strictObject({
  title: z.string().trim().min(1, "Give it a title").max(80, "Titles are at most 80 characters"),
  body: z.string().trim().min(1, "Write the reply").max(2000, "Replies are at most 2,000 characters"),
});
export type CannedReplyInput = z.infer<typeof cannedReplyInput>;
export const cannedReplyIdInput = z.strictObject({ id: z.uuid({ error: "Canned reply id must be a UUID" }) });

export const accountRoles = ["admin", "staff", "player"] as const;
export const newPasswordSchema = z
  .string()
  .min(10, "Passwords are at least 10 characters")
  .max(128, "Passwords are at most 128 characters");
export const createAccountInput = z.strictObject({
  role: z.enum(accountRoles),
  email: z.email({ error: "Enter a valid email address" }).max(254).toLowerCase(),
  name: z.string().trim().min(1, "Enter a name").max(80, "Names are at most 80 characters"),
  /** A player's existing Player ID; omitted → the next free one. */
  playerId: playerId.optional(),
  /** Omitted → a random temporary password is made and returned once. */
  password: newPasswordSchema.optional(),
});
export type CreateAccountInput = z.infer<typeof createAccountInput>;
export const capacityInput = z.strictObject({
  userId: z.string().min(1).max(128),
  maxConcurrentChats: z.number().int().min(0, "Capacity is 0 or more").max(50, "Capacity is at most 50"),
});
export const changePasswordInput = z.strictObject({
  currentPassword: z.string().min(1, "Enter your current password").max(128),
  newPassword: newPasswordSchema,
});

export const searchInput = z.strictObject({
  q: z.string().trim().min(1, "Type something to search for").max(100, "Searches are at most 100 characters"),
  /** The last hit of the previous page. */
  cursor: z.strictObject({ timestamp: z.coerce.date(), id: z.uuid() }).optional(),
  limit: z.number().int().min(1).max(50).default(20),
});
export type SearchInput = z.infer<typeof searchInput>;
