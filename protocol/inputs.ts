import { z } from "zod";

import { MAX_MESSAGE_LENGTH } from "./limits";

export { MAX_MESSAGE_LENGTH };

export const messageId = z.uuid({ error: "Message id must be a UUID" });

export const messageText = z
  .string({ error: "Message text is required" })
  .trim()
  .min(1, { error: "Message cannot be empty" })
  .max(MAX_MESSAGE_LENGTH, {
    error: `Message is too long: at most ${MAX_MESSAGE_LENGTH} characters`,
  })
  // Postgres text cannot hold U+0000: refused here, not as a 500 from the INSERT.
  .refine((text) => !text.includes("\u0000"), { error: "Message cannot contain a NUL character" });

/** `players.id` is an int4 serial: anything above this cannot be a player and must not reach SQL. */
export const MAX_PLAYER_ID = 2_147_483_647;
/** Canonical decimal: no sign, no leading zero, no exponent, no spaces ("29", never "029" or "2.9e1"). */
export const CANONICAL_PLAYER_ID = /^[1-9][0-9]{0,9}$/;

/**
 * The one Player ID schema: tRPC inputs (numbers), REST paths and bodies (strings or numbers) and
 * channel names (`private-player-29`) all go through it, so all three accept exactly the same ids.
 */
export const playerId = z.preprocess(
  (value) => (typeof value === "string" && CANONICAL_PLAYER_ID.test(value) ? Number(value) : value),
  z
    .number({ error: "Player ID must be a number written like 29" })
    .int({ error: "Player ID must be a whole number" })
    .positive({ error: "Player ID must be positive" })
    .max(MAX_PLAYER_ID, { error: `Player ID is out of range: at most ${MAX_PLAYER_ID}` }),
);

/** Per-player sequence numbers (int8 columns, but only JS-safe integers are ever handed out). */
export const seqNumber = z.number().int().min(0).max(Number.MAX_SAFE_INTEGER);

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
  cursor: seqNumber.positive().nullish(),
  limit: z.number().int().min(1).max(200).default(50),
  /** Sent by tRPC's infinite queries; pages only go backwards in time here. */
  direction: z.enum(["forward", "backward"]).optional(),
});

export const sinceInput = z.strictObject({
  /** The last seq the client has; returns everything after it. */
  sinceSeq: seqNumber,
  limit: z.number().int().min(1).max(500).default(200),
});

export const requestIdInput = z.strictObject({ requestId: z.uuid({ error: "Request id must be a UUID" }) });

/** A player's rating of a closed chat: 1 (poor) to 5 (excellent). */
export const rateChatInput = z.strictObject({
  requestId: z.uuid({ error: "Request id must be a UUID" }),
  rating: z
    .number({ error: "Rating must be a whole number from 1 to 5" })
    .int({ error: "Rating must be a whole number from 1 to 5" })
    .min(1, { error: "Rating must be a whole number from 1 to 5" })
    .max(5, { error: "Rating must be a whole number from 1 to 5" }),
});
export type RateChatInput = z.infer<typeof rateChatInput>;
