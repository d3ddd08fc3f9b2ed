import { and, desc, eq, inArray, sql } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import {
  type ChatMessage,
  type ChatRequest,
  chatMessages,
  chatRequests,
  players,
  type RequestStatus,
} from "@/db/schema";
import type { QueueItem } from "@/protocol/events";
import type { ReplyInput } from "@/protocol/inputs";
import type { StaffActor } from "./actors";
import { claimForReply, holdStartedChat, recordEvent } from "./assignment";
import { ChatError } from "./errors";
import { appendMessage, findExisting, lockChat, lockPlayer, nextVersion } from "./messages";
import type { PreparedPhoto } from "./photos";

export type { QueueItem };

/** The staff queue: waiting oldest first; in progress and resolved most recent first. */
export async function listQueue(
  db: Db,
  input: { statuses?: RequestStatus[]; resolvedLimit?: number } = {},
): Promise<QueueItem[]> {
  const statuses = input.statuses ?? ["waiting", "in_progress", "resolved"];
  // Per request, not over the whole table: each lateral lookup is one probe of an index
  // (chat_messages_request_idx for the last message, the partial chat_messages_unread_idx for the
  // count), so the queue costs the same at a million messages as at a hundred.
  const lastMessage = db
    .select({
      messageText: chatMessages.messageText,
      sender: chatMessages.sender,
      seq: chatMessages.seq,
      timestamp: chatMessages.timestamp,
    })
    .from(chatMessages)
    .where(eq(chatMessages.requestId, chatRequests.id))
    .orderBy(desc(chatMessages.seq))
    .limit(1)
    .as("last_message");
  const unread = db
    .select({ count: sql<number>`count(*)::int`.as("count") })
    .from(chatMessages)
    .where(
      and(
        eq(chatMessages.requestId, chatRequests.id),
        eq(chatMessages.sender, "player"),
        sql`${chatMessages.status} <> 'read'`,
      ),
    )
    .as("unread");

  const open = statuses.filter((s) => s !== "resolved");
  // The requests first (an index each), then their last message and unread count: computing
  // those before the LIMIT would run the lookups for every resolved chat the club ever had.
  const [waiting, resolved] = await Promise.all([
    open.length
      ? db.select().from(chatRequests).where(inArray(chatRequests.status, open)).orderBy(chatRequests.createdAt)
      : [],
    statuses.includes("resolved")
      ? db
          .select()
          .from(chatRequests)
          .where(eq(chatRequests.status, "resolved"))
          .orderBy(desc(chatRequests.resolvedAt))
          .limit(input.resolvedLimit ?? 20)
      : [],
  ]);
  const requests = [...waiting, ...resolved];
  if (requests.length === 0) return [];
  const summaries = await db
    .select({
      id: chatRequests.id,
      lastText: lastMessage.messageText,
      lastSender: lastMessage.sender,
      lastSeq: lastMessage.seq,
      lastAt: lastMessage.timestamp,
      unread: unread.count,
    })
    .from(chatRequests)
    .leftJoinLateral(lastMessage, sql`true`)
    .leftJoinLateral(unread, sql`true`)
    .where(
      inArray(
        chatRequests.id,
        requests.map((r) => r.id),
      ),
    );
  const byId = new Map(summaries.map((s) => [s.id, s]));
  return requests.map((request) => toItem({ request, ...(byId.get(request.id) ?? {}) }));
}

function toItem(row: {
  request: ChatRequest;
  lastText?: string | null;
  lastSender?: ChatMessage["sender"] | null;
  lastSeq?: number | null;
  lastAt?: Date | null;
  unread?: number | null;
}): QueueItem {
  const { lastText, lastSender, lastSeq, lastAt } = row;
  return {
    ...row.request,
    lastMessage:
      lastText != null && lastSender && lastSeq != null && lastAt
        ? { messageText: lastText, sender: lastSender, seq: lastSeq, timestamp: lastAt }
        : null,
    unreadCount: row.unread ?? 0,
  };
}

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

/** A staff reply in a request's thread. Idempotent on `input.id`, like the player's send. */
export async function replyAsStaff(db: Db, input: ReplyInput & { staff: StaffActor; photo?: PreparedPhoto }) {
  return db.transaction(async (tx) => replyInLockedRequest(tx, await lockChat(tx, input.requestId), input));
}

/**
 * A staff message to a player by Player ID (the club's integration API): into the player's open
 * chat, or a new one that this staff member starts and holds — within their capacity, off duty or
 * not (`holdStartedChat`).
 */
export async function messagePlayer(db: Db, input: { playerId: number; id: string; text: string; staff: StaffActor }) {
  return db.transaction(async (tx) => {
    await lockPlayer(tx, input.playerId);
    const [open] = await tx
      .select()
      .from(chatRequests)
      .where(and(eq(chatRequests.playerId, input.playerId), sql`${chatRequests.status} <> 'resolved'`))
      .for("update");
    let request = open;
    if (!request) {
      const existing = await findExisting(tx, input.id, { playerId: input.playerId, sender: "staff" });
      if (existing) {
        const [own] = await tx.select().from(chatRequests).where(eq(chatRequests.id, existing.requestId));
        if (own) return { message: existing, request: own, duplicate: true };
      }
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
      await recordEvent(tx, created.id, "created", input.staff);
      request = await holdStartedChat(tx, created, input.staff);
    }
    return replyInLockedRequest(tx, request, { ...input, requestId: request.id });
  });
}

async function replyInLockedRequest(
  tx: Tx,
  request: ChatRequest,
  input: ReplyInput & { staff: StaffActor; photo?: PreparedPhoto },
) {
  const existing = await findExisting(tx, input.id, { playerId: request.playerId, sender: "staff" });
  if (existing) return { message: existing, request, duplicate: true };
  if (request.status === "resolved") {
    throw new ChatError("CONFLICT", "This chat is resolved; reopen it to reply");
  }
  if (request.status === "in_progress" && request.assignedStaffId !== input.staff.userId) {
    throw new ChatError("CONFLICT", "Another staff member is handling this chat");
  }

  // Replying to a waiting chat takes it (within capacity): two staff must never answer the same player.
  if (request.status === "waiting") await claimForReply(tx, request, input.staff);
  await tx
    .update(chatRequests)
    .set({ firstResponseAt: request.firstResponseAt ?? new Date(), version: nextVersion })
    .where(eq(chatRequests.id, request.id));

  const appended = await appendMessage(tx, {
    id: input.id,
    requestId: request.id,
    playerId: request.playerId,
    sender: "staff",
    senderName: input.staff.displayName,
    senderUserId: input.staff.userId,
    text: input.text,
    photo: input.photo,
  });
  return { ...appended, duplicate: false };
}
