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
