import { and, desc, eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { chatRatings, chatRequests } from "@/db/schema";
import type { RateChatInput } from "@/protocol/inputs";
import type { PlayerActor } from "./actors";
import { ChatError } from "./errors";

/**
 * A player rates one of their own closed chats, once. The same rating again (a retry whose
 * answer was lost) returns the stored one; a different one is refused. Another player's chat is
 * "No such chat", as one that does not exist: ids of other players' chats reveal nothing.
 */
export async function rateChat(db: Db, input: RateChatInput & { player: PlayerActor }) {
  const [request] = await db
    .select({ status: chatRequests.status })
    .from(chatRequests)
    .where(and(eq(chatRequests.id, input.requestId), eq(chatRequests.playerId, input.player.id)));
  if (!request) throw new ChatError("NOT_FOUND", "No such chat");
  if (request.status !== "resolved") throw new ChatError("CONFLICT", "You can rate a chat once it is closed");
  // The primary key makes "once" hold however many tabs press at the same moment.
  await db
    .insert(chatRatings)
    .values({ requestId: input.requestId, playerId: input.player.id, rating: input.rating })
    .onConflictDoNothing();
  const stored = await ratingOf(db, input.requestId);
  if (stored !== input.rating) throw new ChatError("CONFLICT", "You have already rated this chat");
  return { requestId: input.requestId, rating: stored };
}

/** The player's rating of a chat, or null. */
export async function ratingOf(db: Db, requestId: string) {
  const [row] = await db
    .select({ rating: chatRatings.rating })
    .from(chatRatings)
    .where(eq(chatRatings.requestId, requestId));
  return row?.rating ?? null;
}

/** The player's most recently closed chat and its rating (null: not rated yet), if any. */
export async function lastResolvedOf(db: Db, playerId: number) {
  const [row] = await db
    .select({ id: chatRequests.id, staffId: chatRequests.assignedStaffId, rating: chatRatings.rating })
    .from(chatRequests)
    .leftJoin(chatRatings, eq(chatRatings.requestId, chatRequests.id))
    .where(and(eq(chatRequests.playerId, playerId), eq(chatRequests.status, "resolved")))
    .orderBy(desc(chatRequests.resolvedAt))
    .limit(1);
  return row ?? null;
}
