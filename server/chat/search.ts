import { and, desc, eq, inArray, lt, or, type SQL, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { chatMessages, chatRequests } from "@/db/schema";
import type { SearchInput } from "@/protocol/inputs";

/**
 * Past chats by Player ID (digits only), player name or message text. Text uses Postgres full-text
 * search with the 'simple' configuration; the expressions match the GIN indexes in migration
 * 0007_search_index exactly, so the planner uses them (on PGlite too). Newest first, paged by
 * (timestamp, id) so pages stay stable while new messages arrive.
 */
/** SEARCH_CURSOR_AT's shape (protocol/inputs.ts), from the stored timestamptz in UTC. */
const AT_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"';

/** A name shared by more chats than this finds the first ones; type more of the name to narrow. */
const MAX_NAMED_REQUESTS = 2000;

export async function searchChats(db: Db, input: SearchInput) {
  const byPlayerId = /^\d{1,9}$/.test(input.q) ? Number(input.q) : null;
  const query = sql`plainto_tsquery('simple', ${input.q})`;
  // Name and text matches run as two queries and merge: one OR across both tables would make the
  // planner give up both indexes (4 s instead of 10 ms at 1,000,000 messages; bench/search.ts).
  // Requests by name first (a small GIN lookup): as a subquery the planner cannot tell that none
  // match and walks every message.
  const named =
    byPlayerId !== null
      ? []
      : await db
          .select({ id: chatRequests.id })
          .from(chatRequests)
          .where(sql`to_tsvector('simple', ${chatRequests.playerName}) @@ ${query}`)
          .limit(MAX_NAMED_REQUESTS);
  const sources: SQL[] =
    byPlayerId !== null
      ? [eq(chatMessages.playerId, byPlayerId) as SQL]
      : [
          sql`to_tsvector('simple', ${chatMessages.messageText}) @@ ${query}`,
          ...(named.length
            ? [
                inArray(
                  chatMessages.requestId,
                  named.map((r) => r.id),
                ) as SQL,
              ]
            : []),
        ];
  // Compared in the database at full precision (see searchInput's cursor).
  const cursorAt = input.cursor ? sql`${input.cursor.at}::timestamptz` : null;
  const after =
    input.cursor && cursorAt
      ? or(
          sql`${chatMessages.timestamp} < ${cursorAt}`,
          and(sql`${chatMessages.timestamp} = ${cursorAt}`, lt(chatMessages.id, input.cursor.id)),
        )
      : undefined;
  const pages = await Promise.all(
    sources.map((matches) =>
      db
        .select({
          id: chatMessages.id,
          requestId: chatMessages.requestId,
          playerId: chatMessages.playerId,
          playerName: chatRequests.playerName,
          sender: chatMessages.sender,
          senderName: chatMessages.senderName,
          messageText: chatMessages.messageText,
          timestamp: chatMessages.timestamp,
          at: sql<string>`to_char(${chatMessages.timestamp} at time zone 'UTC', ${AT_FORMAT})`,
        })
        .from(chatMessages)
        .innerJoin(chatRequests, eq(chatRequests.id, chatMessages.requestId))
        .where(and(matches, after))
        .orderBy(desc(chatMessages.timestamp), desc(chatMessages.id))
        .limit(input.limit + 1),
    ),
  );
  const seen = new Set<string>();
  const rows = pages
    .flat()
    .filter((r) => !seen.has(r.id) && seen.add(r.id))
    // `at` is fixed-width text, so comparing strings orders by the full-precision instant.
    .sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
  const hits = rows.slice(0, input.limit).map(({ at: _, ...hit }) => hit);
  const last = rows[input.limit - 1];
  return {
    hits,
    next: rows.length > input.limit && last ? { at: last.at, id: last.id } : undefined,
  };
}
