import { z } from "zod";

import { DEFAULT_PHOTO_TEXT, MAX_MESSAGE_LENGTH } from "./limits";

export { MAX_MESSAGE_LENGTH };

export const messageId = z.uuid({ error: "Message id must be a UUID" });

/**
 * Postgres text cannot hold U+0000: a string with one is refused here, with a sentence, not as a
 * 500 from the query. Every free-text input and every string id goes through it.
 */
export const withoutNul = <T extends z.ZodString>(schema: T, what: string) =>
  schema.refine((text) => !text.includes("\u0000"), { error: `${what} cannot contain a NUL character` });

/** A better-auth user id as another user names it (transfer, capacity, deactivation). */
export const userIdInput = withoutNul(
  z.string({ error: "User id is required" }).min(1, "User id is required").max(128, "User id is too long"),
  "User id",
);

// Control characters other than tab and line breaks, and halves of a surrogate pair: nothing a
// keyboard types, and JSON writes each as six bytes, so a long message of them would not fit in one
// live event (Pusher's 10 KB; tests/web/event-size.test.ts).
const UNTYPABLE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: refusing them is what this is for
  /[\u0001-\u0008\u000B\u000C\u000E-\u001F]|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export const messageText = withoutNul(
  z
    .string({ error: "Message text is required" })
    .trim()
    .min(1, { error: "Message cannot be empty" })
    .max(MAX_MESSAGE_LENGTH, {
      error: `Message is too long: at most ${MAX_MESSAGE_LENGTH} characters`,
    })
    .refine((text) => !UNTYPABLE.test(text), {
      error: "Message cannot contain control characters or broken characters",
    }),
  "Message",
);

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

export const transferInput = requestIdInput.extend({ toUserId: userIdInput });

export const noteInput = requestIdInput.extend({
  text: withoutNul(
    z.string().trim().min(1, "Write a note first").max(4000, "Notes are at most 4,000 characters"),
    "A note",
  ),
});

export const cannedReplyInput = z.strictObject({
  title: withoutNul(z.string().trim().min(1, "Give it a title").max(80, "Titles are at most 80 characters"), "A title"),
  body: withoutNul(
    z.string().trim().min(1, "Write the reply").max(2000, "Replies are at most 2,000 characters"),
    "A reply",
  ),
});
export type CannedReplyInput = z.infer<typeof cannedReplyInput>;
export const cannedReplyIdInput = z.strictObject({ id: z.uuid({ error: "Canned reply id must be a UUID" }) });

export const accountRoles = ["admin", "staff", "player"] as const;
export const newPasswordSchema = withoutNul(
  z.string().min(10, "Passwords are at least 10 characters").max(128, "Passwords are at most 128 characters"),
  "A password",
);
export const createAccountInput = z.strictObject({
  role: z.enum(accountRoles),
  email: z.email({ error: "Enter a valid email address" }).max(254).toLowerCase(),
  name: withoutNul(z.string().trim().min(1, "Enter a name").max(80, "Names are at most 80 characters"), "A name"),
  /** A player's existing Player ID; omitted → the next free one. */
  playerId: playerId.optional(),
  /** Omitted → a random temporary password is made and returned once. */
  password: newPasswordSchema.optional(),
});
export type CreateAccountInput = z.infer<typeof createAccountInput>;
export const capacityInput = z.strictObject({
  userId: userIdInput,
  maxConcurrentChats: z.number().int().min(0, "Capacity is 0 or more").max(50, "Capacity is at most 50"),
});
export const deactivationInput = z.strictObject({
  userId: userIdInput,
  deactivated: z.boolean(),
});
export const changePasswordInput = z.strictObject({
  currentPassword: z.string().min(1, "Enter your current password").max(128),
  newPassword: newPasswordSchema,
});

/** UTC to the microsecond, years 0001–9999 (inside Postgres's range): `2026-11-25T10:00:00.123456Z`. */
export const SEARCH_CURSOR_AT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
export const searchInput = z.strictObject({
  q: withoutNul(
    z.string().trim().min(1, "Type something to search for").max(100, "Searches are at most 100 characters"),
    "A search",
  ),
  /**
   * The last hit of the previous page, as the server gave it. `at` is the stored instant to the
   * microsecond, as text: a JS Date keeps milliseconds only, and a cursor rounded to them skips or
   * repeats the messages stored within one millisecond.
   */
  cursor: z
    .strictObject({
      at: z.string().regex(SEARCH_CURSOR_AT, "The search cursor's time must be as the server sent it"),
      id: z.uuid({ error: "The search cursor's id must be a UUID" }),
    })
    .optional(),
  limit: z.number().int().min(1).max(50).default(20),
  /** Sent by tRPC's infinite queries; search pages only go back in time. */
  direction: z.enum(["forward", "backward"]).optional(),
});
export type SearchInput = z.infer<typeof searchInput>;
/**
 * A photo message's fields (POST /api/photos query string; the bytes are the body). The text
 * describes the photo — its alt text — and may be left out: then it reads "Photo".
 */
export const photoMessageInput = z.strictObject({
  id: messageId,
  text: z.preprocess(
    (value) => (typeof value === "string" && value.trim() === "" ? undefined : value),
    messageText.default(DEFAULT_PHOTO_TEXT),
  ),
  /** Staff only: the chat to answer. */
  requestId: z.uuid({ error: "Request id must be a UUID" }).optional(),
});
export type PhotoMessageInput = z.infer<typeof photoMessageInput>;

/** GET /api/photos/:id — the photo as stored, or `?size=thumb` for the thread's thumbnail. */
export const photoQuery = z.strictObject({ size: z.enum(["full", "thumb"]).default("full") });

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
