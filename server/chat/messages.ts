import { type AnyColumn, and, asc, desc, eq, getTableColumns, gt, lt, type SQL, sql } from "drizzle-orm";
import type { PgTable } from "drizzle-orm/pg-core";
import { type Db, rowsOf, type Tx } from "@/db/client";
import { uniqueViolation } from "@/db/errors";
import { preparedOnce } from "@/db/prepared";
import {
  type ChatMessage,
  type ChatRequest,
  chatMessages,
  chatPhotos,
  chatRequests,
  type PhotoMeta,
  players,
  type Sender,
  staff,
} from "@/db/schema";
import { mayReadThreadSql } from "./access";
import { ChatError } from "./errors";
import type { PreparedPhoto } from "./photos";

type NewMessage = {
  id: string;
  requestId: string;
  playerId: number;
  sender: Sender;
  senderName: string;
  senderUserId: string | null;
  text: string;
  /** A photo message: the re-encoded image, stored beside the row in the same transaction. */
  photo?: PreparedPhoto;
};

/** Set in every UPDATE of a chat request: the version clients compare events by. */
export const nextVersion = sql`${chatRequests.version} + 1`;

/**
 * Appends a message to a player's thread inside the caller's transaction and returns it with
 * its request as changed. The caller must already hold the player row lock (`lockPlayer`),
 * which serialises every writer of this thread: seq is then strictly increasing with no gaps,
 * and a retry of the same id sees the committed first attempt instead of racing it.
 * The seq bump, the insert and the request's new version are one statement, `chat_append_message`
 * (db/migrations/0010): the player's send runs the same function inside its own.
 */
export async function appendMessage(tx: Tx, msg: NewMessage): Promise<{ message: ChatMessage; request: ChatRequest }> {
  const [row] = await rowsOf<{ message: unknown; request: unknown }>(
    tx,
    sql`select message, request from chat_append_message(${msg.id}::uuid, ${msg.requestId}::uuid,
      ${msg.playerId}::integer, ${msg.sender}::chat_message_sender, ${msg.senderName}::text,
      ${msg.senderUserId}::text, ${msg.text}::text, ${photoMeta(msg.photo)}::jsonb, null)`,
  );
  if (!row) throw new Error("chat_append_message returned no row");
  const appended = { message: messageFromJson(row.message), request: requestFromJson(row.request) };
  if (msg.photo) await insertPhoto(tx, appended.message, msg.photo);
  return appended;
}

/** The photo's shape as stored on its message row (JSON for the statement), or null. */
export function photoMeta(photo: PreparedPhoto | undefined): string | null {
  if (!photo) return null;
  const meta: PhotoMeta = {
    type: photo.contentType,
    width: photo.width,
    height: photo.height,
    thumbWidth: photo.thumbWidth,
    thumbHeight: photo.thumbHeight,
  };
  return JSON.stringify(meta);
}

/** A photo message's bytes, beside its row, in the transaction that stored the row. */
export async function insertPhoto(tx: Tx, message: ChatMessage, photo: PreparedPhoto) {
  const { contentType, image, thumbContentType, thumb } = photo;
  await tx
    .insert(chatPhotos)
    .values({ messageId: message.id, playerId: message.playerId, contentType, image, thumbContentType, thumb });
}

/**
 * A row a function returned as `to_jsonb(row)`, decoded column by column as drizzle decodes that
 * table (timestamps to Date, bigint to number), so callers get the same shape as from a select.
 */
function fromJson<T extends PgTable>(table: T) {
  return pickFromJson(table, Object.keys(getTableColumns(table)) as (keyof T["$inferSelect"] & string)[]);
}

/** The same for some columns only: what a select of just those columns returns. */
export function pickFromJson<T extends PgTable, K extends keyof T["$inferSelect"] & string>(table: T, keys: K[]) {
  const all = getTableColumns(table);
  const columns = keys.map((key) => [key, all[key] as (typeof all)[string]] as const);
  return (json: unknown): Pick<T["$inferSelect"], K> => {
    const source = json as Record<string, unknown>;
    const row: Record<string, unknown> = {};
    for (const [key, column] of columns) {
      const value = source[column.name];
      row[key] = value === null || value === undefined ? null : column.mapFromDriverValue(value);
    }
    return row as Pick<T["$inferSelect"], K>;
  };
}
export const messageFromJson = fromJson(chatMessages);
export const requestFromJson = fromJson(chatRequests);

/** Takes the per-player write lock for the rest of the transaction. */
export async function lockPlayer(tx: Tx, playerId: number) {
  const [row] = await tx.select().from(players).where(eq(players.id, playerId)).for("update");
  if (!row) throw new ChatError("NOT_FOUND", `Player ${playerId} not found`);
  return row;
}

/**
 * The one lock order for every change to a player's chat: the player row, then the request row.
 * Send, reply, claim, resolve and reopen all take it, so on one player they run one at a time
 * (a message can never land in a chat a concurrent Resolve just closed) and cannot deadlock.
 */
export async function lockChat(tx: Tx, requestId: string): Promise<ChatRequest> {
  // A request's player never changes, so this first read needs no lock.
  const [target] = await tx
    .select({ playerId: chatRequests.playerId })
    .from(chatRequests)
    .where(eq(chatRequests.id, requestId));
  if (!target) throw new ChatError("NOT_FOUND", "Chat request not found");
  await lockPlayer(tx, target.playerId);
  const [request] = await tx.select().from(chatRequests).where(eq(chatRequests.id, requestId)).for("update");
  if (!request) throw new ChatError("NOT_FOUND", "Chat request not found");
  return request;
}

/**
 * A message id that is already stored: the same sender retrying gets the stored row back with the
 * chat it was stored in; anyone else reusing the id is refused without learning what it holds.
 * The rule is `chat_stored_message` (db/migrations/0014), the one the send and reply statements
 * call, so every path answers a retry alike.
 */
export async function findExisting(
  tx: Tx | Db,
  id: string,
  owner: { playerId: number; sender: Sender },
): Promise<{ message: ChatMessage; request: ChatRequest } | null> {
  const [row] = await rowsOf<{ outcome: "duplicate" | "conflict" | null; message: unknown; request: unknown }>(
    tx,
    sql`select * from chat_stored_message(${id}::uuid, ${owner.playerId}::integer, ${owner.sender}::chat_message_sender)`,
  );
  if (!row?.outcome) return null;
  if (row.outcome === "conflict") throw idTaken();
  return { message: messageFromJson(row.message), request: requestFromJson(row.request) };
}

/** Someone else's message id: refused without saying what the stored message holds. */
export const idTaken = () => new ChatError("CONFLICT", "This message id is already used; send with a new id");

/**
 * For a statement that stores a message: the primary key refusing its id is `idTaken`. The
 * stored-id check runs under the player's lock, so the same sender's retries in one thread never
 * race; two players' (or a player's and a staff reply to another player's) sends of one id take
 * different locks, neither sees the other's uncommitted row, and the index decides: the loser's
 * id is someone else's (409, not a 5xx).
 */
export function takenIfRaced(err: unknown): never {
  if (uniqueViolation(err) === "chat_messages_pkey") throw idTaken();
  throw err;
}

/**
 * A page of a thread as Postgres wrote it: `messages` is the JSON text of the rows oldest →
 * newest, each with the keys and values a select of chat_messages gives once serialised
 * (camelCase keys, timestamps as `Date#toJSON` writes them). The REST route sends it as it is;
 * threadPage decodes it for tRPC.
 */
export type ThreadPageJson = { messages: string; count: number; olderCursor: number | undefined };

type PageInput = { playerId: number; cursor?: number | null; limit: number };
type PageRow = { messages: string; count: number; oldest: number | string | null; hasOlder: boolean };

const pageParams = (input: PageInput) => ({
  playerId: input.playerId,
  before: input.cursor || Number.MAX_SAFE_INTEGER,
  limit: input.limit,
});

function pageOf(row: PageRow | undefined): ThreadPageJson {
  return {
    messages: row?.messages ?? "[]",
    count: Number(row?.count ?? 0),
    olderCursor: row?.hasOlder && row.oldest !== null ? Number(row.oldest) : undefined,
  };
}

/** Newest `limit` messages before `cursor` (none: the latest), as one JSON value (see pageFields). */
export async function threadPageJson(db: Db, input: PageInput): Promise<ThreadPageJson> {
  const [row] = await pageQuery(db).execute(pageParams(input));
  return pageOf(row);
}

/**
 * The same page and, in the same statement, the reader's own records: the player and staff rows
 * of `userId` (ids only, or null). The REST route looked them up in a round trip of their own on
 * every read (issue 11). Rows are read only for a reader mayReadThreadSql admits (staff, or that
 * player), but the caller must still ask mayReadThread (access.ts) with these records before using it.
 */
export async function threadPageWithReader(db: Db, input: PageInput & { userId: string }) {
  const [row] = await pageWithReaderQuery(db).execute({ ...pageParams(input), userId: input.userId });
  return {
    reader: { playerId: row?.readerPlayerId ?? null, staffUserId: row?.readerStaffUserId ?? null },
    page: pageOf(row),
  };
}

/** Newest page first from the database, returned oldest → newest for display. */
export async function threadPage(db: Db, input: PageInput) {
  return decodePage(await threadPageJson(db, input));
}

/** A page's rows as a select returns them (timestamps back to Date). */
export function decodePage(page: ThreadPageJson): { messages: ChatMessage[]; olderCursor: number | undefined } {
  const rows = JSON.parse(page.messages) as Record<string, unknown>[];
  for (const row of rows)
    for (const key of timestampKeys) if (row[key] !== null) row[key] = new Date(row[key] as string);
  return { messages: rows as ChatMessage[], olderCursor: page.olderCursor };
}

const messageColumns = Object.entries(getTableColumns(chatMessages));
const timestampKeys = messageColumns.filter(([, c]) => c.columnType === "PgTimestamp").map(([key]) => key);

/** A timestamp as Date#toJSON writes it (UTC, truncated to the millisecond as node-postgres reads it). */
export const timestampJson = (column: AnyColumn) =>
  sql`to_char(${column} at time zone 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** A column's value as JSON.stringify writes what drizzle reads of it: timestamps by timestampJson. */
export const columnJson = (column: AnyColumn) =>
  column.columnType === "PgTimestamp" ? timestampJson(column) : sql`${column}`;

/**
 * A message row's columns under their property names (columnJson): JSON of such a row is, key for
 * key, what JSON.stringify makes of drizzle's row.
 */
const messageAsJsonFields = Object.fromEntries(
  messageColumns.map(([key, column]) => [key, columnJson(column).as(key)]),
);

// Every portal reads it on each open of a chat, so it is one statement that hands back one value:
// drizzle mapping ~50 rows column by column (with Date objects) and the route serialising them
// again was most of a page's web CPU and garbage (issue 11). The rows are a backward scan of
// chat_messages_player_seq_idx from `before` (a generic plan is right for any values); "older
// exists" is one more probe of that index below the page's oldest seq.
function pageFields(db: Db, gate?: SQL) {
  const page = db
    .select(messageAsJsonFields)
    .from(chatMessages)
    .where(
      and(
        eq(chatMessages.playerId, sql.placeholder("playerId")),
        lt(chatMessages.seq, sql.placeholder("before")),
        gate,
      ),
    )
    .orderBy(desc(chatMessages.seq))
    .limit(sql.placeholder("limit"))
    .as("page");
  const seq = sql`${sql.identifier("page")}.${sql.identifier("seq")}`;
  const agg = db
    .select({
      // A whole row's JSON is compact (json_build_object would write spaces around every ':').
      messages: sql<string>`coalesce(json_agg(${sql.identifier("page")} order by ${seq}), '[]')::text`.as("messages"),
      count: sql<number>`count(*)::int`.as("count"),
      oldest: sql<number | string | null>`min(${seq})`.as("oldest"),
    })
    .from(page)
    .as("agg");
  const fields = {
    messages: agg.messages,
    count: agg.count,
    oldest: agg.oldest,
    hasOlder: sql<boolean>`exists (select 1 from ${chatMessages} older
        where older.player_id = ${sql.placeholder("playerId")} and older.seq < ${agg.oldest})`,
  };
  return { agg, fields };
}

const pageQuery = preparedOnce((db: Db) => {
  const { agg, fields } = pageFields(db);
  return db.select(fields).from(agg).prepare("thread_page");
});

const pageWithReaderQuery = preparedOnce((db: Db) => {
  const userId = sql.placeholder("userId");
  const { agg, fields } = pageFields(db, mayReadThreadSql(userId, sql.placeholder("playerId")));
  return db
    .select({
      ...fields,
      readerPlayerId: sql<number | null>`(select ${players.id} from ${players} where ${players.userId} = ${userId})`,
      readerStaffUserId: sql<string | null>`(select ${staff.userId} from ${staff} where ${staff.userId} = ${userId})`,
    })
    .from(agg)
    .prepare("thread_page_with_reader");
});

/** Everything after `sinceSeq`, oldest first: what a client missed while away. */
export async function messagesSince(db: Db, input: { playerId: number; sinceSeq: number; limit: number }) {
  const rows = await db
    .select()
    .from(chatMessages)
    .where(and(eq(chatMessages.playerId, input.playerId), gt(chatMessages.seq, input.sinceSeq)))
    .orderBy(asc(chatMessages.seq))
    .limit(input.limit + 1);
  return { messages: rows.slice(0, input.limit), hasMore: rows.length > input.limit };
}
