import { type AnyColumn, and, desc, eq, getTableColumns, sql } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { preparedOnce } from "@/db/prepared";
import { type ChatMessage, type ChatRequest, chatRequests, players } from "@/db/schema";
import type { Queue, QueueItem } from "@/protocol/events";
import type { ReplyInput } from "@/protocol/inputs";
import { type JsonPath, withJsonText } from "@/protocol/transformer";
import type { StaffActor } from "./actors";
import { holdStartedChat, limitRefusal, recordEvent } from "./assignment";
import { ChatError } from "./errors";
import {
  columnJson,
  findExisting,
  idTaken,
  insertPhoto,
  lockPlayer,
  messageFromJson,
  photoMeta,
  requestFromJson,
  takenIfRaced,
  timestampJson,
} from "./messages";
import type { PreparedPhoto } from "./photos";

export type { QueueItem };

/**
 * The staff queue: open chats oldest first, then the 20 most recently resolved, each with its
 * last message and unread player messages. One statement: it runs on every portal load and on
 * every reconnect of every staff portal at once, so each extra round trip is paid many times.
 */
export async function listQueue(db: Db): Promise<Queue> {
  const [row] = await queueQuery(db).execute();
  return queueFromJson(row?.items ?? "[]");
}

/**
 * The queue from the JSON text Postgres wrote (queueItemJson): one JSON.parse, each timestamp made
 * a Date, and the text kept as the items' JSON (withJsonText), which tRPC's answer and the staff
 * page's dehydrated data write as it is. Decoding ~120 rows column by column (drizzle's mappers, the
 * last message's columns taken out again) and the transformer's walk back to text (600 Dates) cost
 * the web process far more than Postgres took for the statement (issue 11, bench/README.md "The
 * queue's web CPU"). The items come back frozen: the text would not say what a change said.
 */
function queueFromJson(text: string): Queue {
  const items = JSON.parse(text) as Record<string, unknown>[];
  const dates: JsonPath[] = [];
  for (let i = 0; i < items.length; i++) {
    const item = items[i] as Record<string, unknown>;
    for (const key of requestTimestampKeys) {
      const at = item[key];
      if (at === null) continue;
      item[key] = new Date(at as string);
      dates.push([i, key]);
    }
    const last = item.lastMessage as Record<string, unknown> | null;
    if (last === null) continue;
    last.timestamp = new Date(last.timestamp as string);
    dates.push([i, "lastMessage", "timestamp"]);
  }
  return withJsonText(items as QueueItem[], text, dates);
}

/** The columns the request row keeps its last message in: they travel once, as `lastMessage`. */
const summaryKeys = new Set(["lastMessageSeq", "lastMessageSender", "lastMessageText", "lastMessageSentAt"]);
const requestColumns = Object.entries(getTableColumns(chatRequests)).filter(([key]) => !summaryKeys.has(key));
const requestTimestampKeys = requestColumns.filter(([, c]) => c.columnType === "PgTimestamp").map(([key]) => key);

/** A property name as a column alias, written into the statement (it has no parameters: queueQuery). */
const alias = (key: string) => sql.raw(`"${key.replaceAll('"', '""')}"`);

/**
 * A queue item as compact JSON text, exactly what JSON.stringify makes of the item once its Dates
 * are ISO strings (tests/chat/queue-reads.test.ts compares them): keys in the order a select of
 * the request gives them, but the four summary columns, then `lastMessage` from those (set together
 * by the triggers of db/migrations/0012, so null unless all four are there). row_to_json writes no
 * spaces and escapes strings as JSON.stringify does; json_build_object would add spaces.
 */
function queueItemJson(row: typeof chatRequests) {
  const fields = requestColumns.map(([key]) => {
    const column = row[key as keyof typeof row] as AnyColumn;
    return sql`${columnJson(column)} as ${alias(key)}`;
  });
  const { lastMessageSeq: seq, lastMessageSender: sender, lastMessageText: text, lastMessageSentAt: at } = row;
  const lastMessage = sql`case when ${seq} is null or ${sender} is null or ${text} is null or ${at} is null then null
    else (select row_to_json(m) from (select ${text} as "messageText", ${sender} as "sender", ${seq} as "seq",
      ${timestampJson(at)} as "timestamp") m) end`;
  return sql`(select row_to_json(item)::text from (select ${sql.join(fields, sql`, `)},
    ${lastMessage} as "lastMessage") item)`;
}

/**
 * Prepared once (db/prepared.ts), and without parameters on purpose: Postgres may give a prepared
 * statement with parameters a generic plan, and a generic plan can neither use the partial
 * indexes below (their predicates name these very values) nor know that a LIMIT is small —
 * measured at 1,000,000 messages, it hash-joined every request and took 130–970 ms instead of 2–6.
 */
const queueQuery = preparedOnce((db: Db) => {
  // The requests only (an index each: the open ones by the partial unique index, the resolved by
  // chat_requests_resolved_idx): each row carries its last message and unread count (kept by
  // triggers, db/migrations/0012), so the queue reads ~120 rows and never chat_messages.
  const picked = db.$with("picked").as(
    db
      .select()
      .from(chatRequests)
      .where(sql`${chatRequests.status} <> 'resolved'`)
      .unionAll(
        db
          .select()
          .from(chatRequests)
          .where(sql`${chatRequests.status} = 'resolved'`)
          .orderBy(desc(chatRequests.resolvedAt))
          .limit(literal(RECENTLY_RESOLVED)),
      ),
  );
  // The whole queue as one JSON text, in the queue's order (see queueFromJson).
  const order = sql`${picked.status} = 'resolved',
    case when ${picked.status} <> 'resolved' then ${picked.createdAt} end, ${picked.resolvedAt} desc`;
  const item = queueItemJson(picked as unknown as typeof chatRequests);
  return db
    .with(picked)
    .select({ items: sql<string>`coalesce('[' || string_agg(${item}, ',' order by ${order}) || ']', '[]')` })
    .from(picked)
    .prepare("staff_queue");
});

const RECENTLY_RESOLVED = 20;

/** A LIMIT written into the statement's text instead of sent as a parameter (see above). */
const literal = (n: number) => sql.raw(String(Math.trunc(n))) as unknown as number;

export async function getRequest(db: Db, requestId: string) {
  const [request] = await db.select().from(chatRequests).where(eq(chatRequests.id, requestId));
  if (!request) throw new ChatError("NOT_FOUND", "Chat request not found");
  return request;
}

/** The player card staff see beside a conversation. */
export async function getPlayerCard(db: Db, playerId: number) {
  const [player] = await db
    .select({
      id: players.id,
      displayName: players.displayName,
      balance: players.balance,
      creditLimit: players.creditLimit,
      creditUsed: players.creditUsed,
    })
    .from(players)
    .where(eq(players.id, playerId));
  if (!player) throw new ChatError("NOT_FOUND", `Player ${playerId} not found`);
  return player;
}

export type ReplyResult = {
  message: ChatMessage;
  request: ChatRequest;
  /** True when the id was already stored: a retry; nothing new was written. */
  duplicate: boolean;
};

type ReplyRow = {
  outcome:
    | "sent"
    | "duplicate"
    | "conflict"
    | "no_staff"
    | "not_found"
    | "no_player"
    | "no_open_chat"
    | "resolved"
    | "held"
    | "no_room";
  staff_name: string | null;
  message: unknown;
  request: unknown;
};

/** A reply's words and where they go: a chat by its request id, or a player's open chat by Player ID. */
type ReplyTo = { id: string; text: string; staff: Pick<StaffActor, "userId">; photo?: PreparedPhoto } & (
  | { requestId: string }
  | { playerId: number }
);

/** What a signed-in user without a staff record hears (tRPC's staffProcedure says the same). */
export const ONLY_STAFF = "Only staff can do this";

/**
 * A staff reply in a request's thread. Idempotent on `input.id`, like the player's send.
 *
 * One statement, `chat_staff_reply` (db/migrations/0013, 0015): it finds the staff member by user
 * id, locks the chat (player, then request), returns a stored id as a retry, takes a waiting chat
 * under the capacity rule (the same SQL function as Take: assignment.ts), refuses unless the
 * caller holds the chat, sets the first response and appends the message. Alone it is its own
 * transaction: one round trip, the first reply to a waiting chat included. A photo takes a
 * transaction: its bytes are stored beside the row.
 */
export async function replyAsStaff(
  db: Db,
  input: ReplyInput & { staff: Pick<StaffActor, "userId">; photo?: PreparedPhoto },
): Promise<ReplyResult> {
  if (!input.photo) return replyResult(await replyStatement(db, input), input, db);
  return db.transaction((tx) => replyInTransaction(tx, input));
}

async function replyInTransaction(tx: Tx, input: ReplyTo): Promise<ReplyResult> {
  const result = await replyResult(await replyStatement(tx, input), input, tx);
  if (input.photo && !result.duplicate) await insertPhoto(tx, result.message, input.photo);
  return result;
}

/**
 * The reply's one statement, prepared as the send's is (server/chat/send.ts, db/prepared.ts): built
 * once per handle, parsed once per connection; a transaction's runs on its own connection.
 */
const replyQuery = preparedOnce((db: Db | Tx) =>
  db
    .select({
      outcome: sql<ReplyRow["outcome"]>`outcome`,
      staff_name: sql<string | null>`staff_name`,
      message: sql<unknown>`message`,
      request: sql<unknown>`request`,
    })
    .from(
      sql`chat_staff_reply(${sql.placeholder("userId")}::text, ${sql.placeholder("requestId")}::uuid,
        ${sql.placeholder("playerId")}::integer, ${sql.placeholder("id")}::uuid, ${sql.placeholder("text")}::text,
        ${sql.placeholder("photo")}::jsonb)`,
    )
    .prepare("chat_staff_reply"),
);

function replyStatement(tx: Db | Tx, input: ReplyTo): Promise<ReplyRow> {
  return replyQuery(tx)
    .execute({
      userId: input.staff.userId,
      requestId: "requestId" in input ? input.requestId : null,
      playerId: "playerId" in input ? input.playerId : null,
      id: input.id,
      text: input.text,
      photo: photoMeta(input.photo),
    })
    .then(([row]) => {
      if (!row) throw new Error("chat_staff_reply returned no row");
      return row;
    }, takenIfRaced);
}

/**
 * The statement's outcome as a result, or as the refusal staff have always been given. Only a
 * refusal for want of room reads again (`db`: the staff row, for the words of `limitRefusal`).
 */
async function replyResult(row: ReplyRow, to: ReplyTo, db: Db | Tx): Promise<ReplyResult> {
  switch (row.outcome) {
    case "sent":
    case "duplicate":
      return {
        message: messageFromJson(row.message),
        request: requestFromJson(row.request),
        duplicate: row.outcome === "duplicate",
      };
    case "no_staff":
      throw new ChatError("FORBIDDEN", ONLY_STAFF);
    case "not_found":
      throw new ChatError("NOT_FOUND", "Chat request not found");
    case "no_player":
    case "no_open_chat":
      // By Player ID only (`messagePlayer`): no open chat is its caller's case, never an answer.
      throw new ChatError("NOT_FOUND", `Player ${"playerId" in to ? to.playerId : "?"} not found`);
    case "conflict":
      throw idTaken();
    case "resolved":
      throw new ChatError("CONFLICT", "This chat is resolved; reopen it to reply");
    case "held":
      throw new ChatError("CONFLICT", "Another staff member is handling this chat");
    case "no_room":
      throw await limitRefusal(db, to.staff.userId, true);
  }
}

/**
 * A staff message to a player by Player ID (the club's integration API): into the player's open
 * chat, or a new one that this staff member starts and holds — within their capacity, off duty or
 * not (`holdStartedChat`).
 */
export async function messagePlayer(
  db: Db,
  input: { playerId: number; id: string; text: string; staff: Pick<StaffActor, "userId"> },
): Promise<ReplyResult> {
  // Into the player's open chat, held by the sender or waiting (taken by the statement): one
  // statement, as `replyAsStaff`; it finds the staff record by user id too (the sender's name comes
  // from it). Refusals are final; a chat to open goes on in a transaction.
  const row = await replyStatement(db, input);
  if (row.outcome !== "no_open_chat") return replyResult(row, input, db);
  const staff: StaffActor = { userId: input.staff.userId, displayName: row.staff_name ?? "" };
  return db.transaction(async (tx) => {
    await lockPlayer(tx, input.playerId);
    const [open] = await tx
      .select()
      .from(chatRequests)
      .where(and(eq(chatRequests.playerId, input.playerId), sql`${chatRequests.status} <> 'resolved'`))
      .for("update");
    let request = open;
    if (!request) {
      // A retry of a reply stored in a chat since resolved: the stored row, nothing started.
      const stored = await findExisting(tx, input.id, { playerId: input.playerId, sender: "staff" });
      if (stored) return { ...stored, duplicate: true };
      const card = await tx.select({ name: players.displayName }).from(players).where(eq(players.id, input.playerId));
      // Inserted waiting (unseen by anyone until commit), then taken within the sender's capacity
      // by the one capacity rule; a refusal rolls the insert back, so nothing is stored.
      const [created] = await tx
        .insert(chatRequests)
        .values({
          playerId: input.playerId,
          playerName: card[0]?.name ?? `Player ${input.playerId}`,
          initialMessage: input.text,
          status: "waiting",
        })
        .returning();
      if (!created) throw new Error("insert returned no row");
      await recordEvent(tx, created.id, "created", staff);
      request = await holdStartedChat(tx, created, staff);
    }
    return replyInTransaction(tx, { ...input, requestId: request.id });
  });
}
