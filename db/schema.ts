import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  customType,
  index,
  integer,
  jsonb,
  numeric,
  pgEnum,
  pgTable,
  serial,
  smallint,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

// ---------------------------------------------------------------------------
// better-auth tables (names and columns as better-auth's Drizzle adapter expects)
// ---------------------------------------------------------------------------

export const roles = ["player", "staff", "admin"] as const;
export type Role = (typeof roles)[number];

export const user = pgTable("user", {
  id: text("id").primaryKey(),
  name: text("name").notNull(),
  email: text("email").notNull().unique(),
  emailVerified: boolean("email_verified").notNull().default(false),
  image: text("image"),
  role: text("role", { enum: roles }).notNull().default("player"),
  // Accounts an admin creates get a temporary password; the first sign-in must replace it.
  mustChangePassword: boolean("must_change_password").notNull().default(false),
  // Set → the account may not sign in; its sessions and live connections were ended when it was set.
  deactivatedAt: timestamp("deactivated_at", { withTimezone: true }),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

export const session = pgTable(
  "session",
  {
    id: text("id").primaryKey(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    token: text("token").notNull().unique(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
    ipAddress: text("ip_address"),
    userAgent: text("user_agent"),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
  },
  (t) => [index("session_user_id_idx").on(t.userId)],
);

export const account = pgTable(
  "account",
  {
    id: text("id").primaryKey(),
    accountId: text("account_id").notNull(),
    providerId: text("provider_id").notNull(),
    userId: text("user_id")
      .notNull()
      .references(() => user.id, { onDelete: "cascade" }),
    accessToken: text("access_token"),
    refreshToken: text("refresh_token"),
    idToken: text("id_token"),
    accessTokenExpiresAt: timestamp("access_token_expires_at", { withTimezone: true }),
    refreshTokenExpiresAt: timestamp("refresh_token_expires_at", { withTimezone: true }),
    scope: text("scope"),
    password: text("password"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("account_user_id_idx").on(t.userId)],
);

export const verification = pgTable(
  "verification",
  {
    id: text("id").primaryKey(),
    identifier: text("identifier").notNull(),
    value: text("value").notNull(),
    expiresAt: timestamp("expires_at", { withTimezone: true }).notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("verification_identifier_idx").on(t.identifier)],
);

/** Sign-in attempts per client, shared by every web instance when Redis is not configured. */
export const rateLimit = pgTable("rate_limit", {
  id: text("id").primaryKey(),
  key: text("key").notNull().unique(),
  count: integer("count").notNull(),
  lastRequest: bigint("last_request", { mode: "number" }).notNull(),
});

// ---------------------------------------------------------------------------
// Floorline domain (names from the club's existing system)
// ---------------------------------------------------------------------------

export const players = pgTable("players", {
  // Players know their "Player ID" (e.g. 29): a small serial, not a uuid.
  id: serial("id").primaryKey(),
  userId: text("user_id")
    .notNull()
    .unique()
    .references(() => user.id, { onDelete: "cascade" }),
  displayName: text("display_name").notNull(),
  balance: numeric("balance", { precision: 12, scale: 2 }).notNull().default("0"),
  creditLimit: numeric("credit_limit", { precision: 12, scale: 2 }).notNull().default("0"),
  creditUsed: numeric("credit_used", { precision: 12, scale: 2 }).notNull().default("0"),
  // Highest chat_messages.seq handed out for this player; bumped in the insert's transaction.
  lastSeq: bigint("last_seq", { mode: "number" }).notNull().default(0),
  // Send limit (GCRA): the earliest time the player's allowance is full again. Read and moved
  // under the player row lock the send already takes, so it holds across web instances.
  sendAllowanceAt: timestamp("send_allowance_at", { withTimezone: true }),
});

export const staff = pgTable("staff", {
  userId: text("user_id")
    .primaryKey()
    .references(() => user.id, { onDelete: "cascade" }),
  displayName: text("display_name").notNull(),
  acceptingChats: boolean("accepting_chats").notNull().default(true),
  maxConcurrentChats: integer("max_concurrent_chats").notNull().default(5),
});

export const senders = ["player", "staff", "system"] as const;
export type Sender = (typeof senders)[number];
export const messageSender = pgEnum("chat_message_sender", senders);

export const requestStatuses = ["waiting", "in_progress", "resolved"] as const;
export type RequestStatus = (typeof requestStatuses)[number];
export const requestStatus = pgEnum("chat_request_status", requestStatuses);

export const chatRequests = pgTable(
  "chat_requests",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    playerId: integer("player_id")
      .notNull()
      .references(() => players.id, { onDelete: "cascade" }),
    playerName: text("player_name").notNull(),
    initialMessage: text("initial_message").notNull(),
    status: requestStatus("status").notNull().default("waiting"),
    assignedStaffId: text("assigned_staff_id").references(() => staff.userId, {
      onDelete: "set null",
    }),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
    claimedAt: timestamp("claimed_at", { withTimezone: true }),
    firstResponseAt: timestamp("first_response_at", { withTimezone: true }),
    resolvedAt: timestamp("resolved_at", { withTimezone: true }),
    lastMessageAt: timestamp("last_message_at", { withTimezone: true }).notNull().defaultNow(),
    // Set once when a request has waited too long and staff were alerted again.
    escalatedAt: timestamp("escalated_at", { withTimezone: true }),
    // Bumped by every change to the row and carried in every event: clients keep the newest.
    version: integer("version").notNull().default(1),
    // What the staff queue shows of the chat, kept by triggers on chat_messages in the statement
    // that inserts, updates or deletes messages (db/migrations/0012): the queue then reads ~120
    // rows instead of looking up each one's last message and counting its unread messages.
    // The last message (greatest seq) of this request; null while it has none.
    lastMessageSeq: bigint("last_message_seq", { mode: "number" }),
    lastMessageSender: messageSender("last_message_sender"),
    lastMessageText: text("last_message_text"),
    lastMessageSentAt: timestamp("last_message_sent_at", { withTimezone: true }),
    // Player messages in this request that staff have not read (status <> 'read').
    unreadCount: integer("unread_count").notNull().default(0),
  },
  (t) => [
    index("chat_requests_status_created_idx").on(t.status, t.createdAt),
    index("chat_requests_player_idx").on(t.playerId, t.createdAt),
    // A player has at most one open request: concurrent first messages cannot open two.
    // The staff queue's recently resolved list (server/chat/staff.ts).
    index("chat_requests_resolved_idx").on(t.resolvedAt).where(sql`${t.status} = 'resolved'`),
    uniqueIndex("chat_requests_one_open_per_player").on(t.playerId).where(sql`${t.status} <> 'resolved'`),
  ],
);

export const messageStatuses = ["sent", "received", "read"] as const;
export type MessageStatus = (typeof messageStatuses)[number];
export const messageStatus = pgEnum("chat_message_status", messageStatuses);

export const chatMessages = pgTable(
  "chat_messages",
  {
    // Chosen by the sending client so that a retry of the same send is idempotent.
    id: uuid("id").primaryKey(),
    requestId: uuid("request_id")
      .notNull()
      .references(() => chatRequests.id, { onDelete: "cascade" }),
    playerId: integer("player_id")
      .notNull()
      .references(() => players.id, { onDelete: "cascade" }),
    seq: bigint("seq", { mode: "number" }).notNull(),
    sender: messageSender("sender").notNull(),
    senderName: text("sender_name").notNull(),
    senderUserId: text("sender_user_id"),
    messageText: text("message_text").notNull(),
    timestamp: timestamp("timestamp", { withTimezone: true }).notNull().defaultNow(),
    status: messageStatus("status").notNull().default("sent"),
    // Set when the message is a photo (its bytes are in chat_photos): what a client needs to lay
    // it out before the image loads. The text is then its description (alt text).
    photo: jsonb("photo").$type<PhotoMeta>(),
  },
  (t) => [
    uniqueIndex("chat_messages_player_seq_idx").on(t.playerId, t.seq),
    index("chat_messages_request_idx").on(t.requestId, t.seq),
    // Unread player messages per request, for the staff queue's count (server/chat/staff.ts).
    index("chat_messages_unread_idx").on(t.requestId).where(sql`${t.sender} = 'player' and ${t.status} <> 'read'`),
  ],
);

/** A photo message's shape, on the message row and in its events (made by server/chat/photos.ts). */
export type PhotoMeta = { type: string; width: number; height: number; thumbWidth: number; thumbHeight: number };

const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => "bytea",
  // node-postgres returns a Buffer, PGlite a Uint8Array: one type for the rest of the code.
  fromDriver: (value) => (Buffer.isBuffer(value) ? value : Buffer.from(value)),
});

/**
 * The bytes of photo messages, kept in the database itself so that PGlite and a backup need
 * nothing else. Only ever what sharp re-encoded (never the upload as sent): a bounded image and
 * its thumbnail, without metadata. One row per message, removed with it.
 */
export const chatPhotos = pgTable("chat_photos", {
  messageId: uuid("message_id")
    .primaryKey()
    .references(() => chatMessages.id, { onDelete: "cascade" }),
  // The thread it belongs to, for the access check without a join.
  playerId: integer("player_id")
    .notNull()
    .references(() => players.id, { onDelete: "cascade" }),
  contentType: text("content_type").notNull(),
  image: bytea("image").notNull(),
  thumbContentType: text("thumb_content_type").notNull(),
  thumb: bytea("thumb").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

export const chatEventTypes = [
  "created",
  "claimed",
  "auto_assigned",
  "transferred",
  "released",
  "taken_over",
  "resolved",
  "reopened",
  "note_added",
] as const;
export type ChatEventType = (typeof chatEventTypes)[number];
export const chatEventType = pgEnum("chat_event_type", chatEventTypes);

// Append-only audit trail (the conversation's timeline); server/chat/metrics.ts derives wait and
// resolution times from it.
export const chatEvents = pgTable(
  "chat_events",
  {
    id: serial("id").primaryKey(),
    requestId: uuid("request_id")
      .notNull()
      .references(() => chatRequests.id, { onDelete: "cascade" }),
    type: chatEventType("type").notNull(),
    actorUserId: text("actor_user_id"),
    actorName: text("actor_name"),
    // Who a chat was transferred or assigned to, when that is not the actor.
    targetUserId: text("target_user_id"),
    targetName: text("target_name"),
    at: timestamp("at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("chat_events_request_idx").on(t.requestId, t.at), index("chat_events_type_at_idx").on(t.type, t.at)],
);

// Staff-only notes on a request. Kept out of chat_messages so that no player path (thread,
// catch-up, channel events) can ever select one.
export const chatNotes = pgTable(
  "chat_notes",
  {
    id: uuid("id").primaryKey().defaultRandom(),
    requestId: uuid("request_id")
      .notNull()
      .references(() => chatRequests.id, { onDelete: "cascade" }),
    authorUserId: text("author_user_id").notNull(),
    authorName: text("author_name").notNull(),
    text: text("text").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("chat_notes_request_idx").on(t.requestId, t.createdAt)],
);

export const cannedReplies = pgTable("canned_replies", {
  id: uuid("id").primaryKey().defaultRandom(),
  title: text("title").notNull().unique(),
  body: text("body").notNull(),
  updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
});

// A player's rating of one closed chat, given at most once (the primary key): 1 to 5.
export const chatRatings = pgTable(
  "chat_ratings",
  {
    requestId: uuid("request_id")
      .primaryKey()
      .references(() => chatRequests.id, { onDelete: "cascade" }),
    playerId: integer("player_id")
      .notNull()
      .references(() => players.id, { onDelete: "cascade" }),
    rating: smallint("rating").notNull(),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check("chat_ratings_rating_range", sql`${t.rating} between 1 and 5`)],
);

export type Player = typeof players.$inferSelect;
export type Staff = typeof staff.$inferSelect;
export type ChatRequest = typeof chatRequests.$inferSelect;
export type ChatMessage = typeof chatMessages.$inferSelect;
export type ChatEvent = typeof chatEvents.$inferSelect;
export type ChatPhoto = typeof chatPhotos.$inferSelect;
export type ChatNote = typeof chatNotes.$inferSelect;
export type CannedReply = typeof cannedReplies.$inferSelect;
