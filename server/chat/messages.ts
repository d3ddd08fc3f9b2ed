import { and, asc, desc, eq, gt, lt, sql } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { preparedOnce } from "@/db/prepared";
import {
  type ChatMessage,
  type ChatRequest,
  chatMessages,
  chatPhotos,
  chatRequests,
  players,
  type Sender,
} from "@/db/schema";
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
  /** The sender's send allowance after this message (send-limit.ts), written with the seq bump. */
  sendAllowanceAt?: Date;
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
 */
export async function appendMessage(tx: Tx, msg: NewMessage): Promise<{ message: ChatMessage; request: ChatRequest }> {
  const [bumped] = await tx
    .update(players)
    .set({
      lastSeq: sql`${players.lastSeq} + 1`,
      ...(msg.sendAllowanceAt ? { sendAllowanceAt: msg.sendAllowanceAt } : {}),
    })
    .where(eq(players.id, msg.playerId))
    .returning({ seq: players.lastSeq });
  if (!bumped) throw new ChatError("NOT_FOUND", `Player ${msg.playerId} not found`);

  const [row] = await tx
    .insert(chatMessages)
    .values({
      id: msg.id,
      requestId: msg.requestId,
      playerId: msg.playerId,
      seq: bumped.seq,
      sender: msg.sender,
      senderName: msg.senderName,
      senderUserId: msg.senderUserId,
      messageText: msg.text,
      photo: msg.photo
        ? {
            type: msg.photo.contentType,
            width: msg.photo.width,
            height: msg.photo.height,
            thumbWidth: msg.photo.thumbWidth,
            thumbHeight: msg.photo.thumbHeight,
          }
        : null,
    })
    .returning();
  if (!row) throw new Error("insert returned no row");
  if (msg.photo) {
    const { contentType, image, thumbContentType, thumb } = msg.photo;
    await tx
      .insert(chatPhotos)
      .values({ messageId: row.id, playerId: msg.playerId, contentType, image, thumbContentType, thumb });
  }

  const [request] = await tx
    .update(chatRequests)
    .set({ lastMessageAt: row.timestamp, version: nextVersion })
    .where(eq(chatRequests.id, msg.requestId))
    .returning();
  if (!request) throw new Error(`request ${msg.requestId} vanished`);
  return { message: row, request };
}

/** Takes the per-player write lock for the rest of the transaction. */
export async function lockPlayer(tx: Tx, playerId: number) {
  const [row] = await tx.select().from(players).where(eq(players.id, playerId)).for("update");
  if (!row) throw new ChatError("NOT_FOUND", `Player ${playerId} not found`);
  return row;
}

/**
 * `lockPlayer` for a player's send, reading in the same round trip what the send limit needs:
 * the player's allowance and the database's clock (the limit is the database's, under this lock;
 * after a lock wait the clock may read a moment early, which can only make a send wait that much more).
 * Whether the message id is already stored is NOT read here: a statement that waited for the lock
 * still joins other tables as of its start, so a concurrent retry's insert would be missed.
 */
export async function lockPlayerForSend(tx: Tx, playerId: number) {
  return foundPlayer(await sendAllowanceOf(tx, playerId).for("update"), playerId);
}

/**
 * The same read without the lock, for refusing before work that needs no lock (decoding a photo);
 * the send itself still decides under `lockPlayerForSend`.
 */
export async function readSendAllowance(db: Db, playerId: number) {
  return foundPlayer(await sendAllowanceOf(db, playerId), playerId);
}

/** What the send limit needs: the player's allowance and the database's clock. */
function sendAllowanceOf(db: Db | Tx, playerId: number) {
  return db
    .select({
      allowanceAt: players.sendAllowanceAt,
      now: sql<Date>`clock_timestamp()`.mapWith(players.sendAllowanceAt),
    })
    .from(players)
    .where(eq(players.id, playerId));
}

function foundPlayer<T>([row]: T[], playerId: number): T {
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
 * A message id that is already stored: the same sender retrying returns the stored row;
 * anyone else reusing the id is refused without learning what it holds.
 */
export async function findExisting(
  tx: Tx | Db,
  id: string,
  owner: { playerId: number; sender: Sender },
): Promise<ChatMessage | null> {
  const [existing] = await tx.select().from(chatMessages).where(eq(chatMessages.id, id));
  if (!existing) return null;
  if (existing.playerId !== owner.playerId || existing.sender !== owner.sender) {
    throw new ChatError("CONFLICT", "This message id is already used; send with a new id");
  }
  return existing;
}

/** Newest page first from the database, returned oldest → newest for display. */
export async function threadPage(db: Db, input: { playerId: number; cursor?: number | null; limit: number }) {
  const rows = await pageQuery(db).execute({
    playerId: input.playerId,
    before: input.cursor || Number.MAX_SAFE_INTEGER,
    limit: input.limit + 1,
  });
  const hasOlder = rows.length > input.limit;
  const page = rows.slice(0, input.limit).reverse();
  return { messages: page, olderCursor: hasOlder ? page[0]?.seq : undefined };
}

// Every portal reads it on each open of a chat. A generic plan is the right one for any values:
// a backward scan of chat_messages_player_seq_idx from `before`.
const pageQuery = preparedOnce((db: Db) =>
  db
    .select()
    .from(chatMessages)
    .where(and(eq(chatMessages.playerId, sql.placeholder("playerId")), lt(chatMessages.seq, sql.placeholder("before"))))
    .orderBy(desc(chatMessages.seq))
    .limit(sql.placeholder("limit"))
    .prepare("thread_page"),
);

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
