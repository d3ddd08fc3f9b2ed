import { and, desc, eq, lt, or, type SQL, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { chatMessages, chatRequests } from "@/db/schema";
import type { SearchInput } from "@/protocol/inputs";

/**
 * Past chats by Player ID (digits only), player name or message text. Text uses Postgres full-text
 * search with the 'simple' configuration; the expressions match the GIN indexes in migration
 * 0004_search_index exactly, so the planner uses them (on PGlite too). Newest first, paged by
 * (timestamp, id) so pages stay stable while new messages arrive.
 */
export async function searchChats(db: Db, input: SearchInput) {
  const byPlayerId = /^\d{1,9}$/.test(input.q) ? Number(input.q) : null;
  const query = sql`plainto_tsquery('simple', ${input.q})`;
  const matches: SQL | undefined =
    byPlayerId !== null
      ? eq(chatMessages.playerId, byPlayerId)
      : or(
          sql`to_tsvector('simple', ${chatMessages.messageText}) @@ ${query}`,
          sql`${chatMessages.requestId} in (select id from ${chatRequests} where to_tsvector('simple', ${chatRequests.playerName}) @@ ${query})`,
        );
  const after = input.cursor
    ? or(
        lt(chatMessages.timestamp, input.cursor.timestamp),
        and(eq(chatMessages.timestamp, input.cursor.timestamp), lt(chatMessages.id, input.cursor.id)),
      )
    : undefined;
  const rows = await db
    .select({
      id: chatMessages.id,
      requestId: chatMessages.requestId,
      playerId: chatMessages.playerId,
      playerName: chatRequests.playerName,
      sender: chatMessages.sender,
      senderName: chatMessages.senderName,
      messageText: chatMessages.messageText,
      timestamp: chatMessages.timestamp,
    })
    .from(chatMessages)
    .innerJoin(chatRequests, eq(chatRequests.id, chatMessages.requestId))
    .where(and(matches, after))
    .orderBy(desc(chatMessages.timestamp), desc(chatMessages.id))
    .limit(input.limit + 1);
  const hits = rows.slice(0, input.limit);
  const last = hits.at(-1);
  return {
    hits,
    next: rows.length > input.limit && last ? { timestamp: last.timestamp, id: last.id } : undefined,
  };
}
