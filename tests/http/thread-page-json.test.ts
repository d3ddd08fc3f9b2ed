import { and, desc, eq, lt, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { chatMessages, players, staff } from "@/db/schema";
import { threadPage, threadPageWithReader } from "@/server/chat/messages";
import { forPlayer } from "@/server/chat/player-view";
import { playerMessages } from "@/server/http/club-api";
import type { HttpDeps } from "@/server/http/deps";
import { openTestDb, testDbKinds } from "../support/db";
import { httpTestDeps, jsonRequest, signInCookie } from "../support/http";
import { insertThread } from "../support/thread";

/**
 * The thread page is built as JSON by Postgres (issue 11: mapping ~50 rows column by column and
 * serialising them again was most of a page's web CPU and allocations). Whatever builds it, a page
 * must be exactly what a select of those rows is: the same fields, timestamps to the millisecond
 * as node-postgres reads them, photo shapes, text with quotes, line breaks and emoji.
 */
describe.each(testDbKinds)("a thread page equals a select of its rows on %s", (kind) => {
  let handle: DbHandle;
  let deps: HttpDeps;
  let staffCookie: string;
  let playerCookie: string;
  let playerId: number;
  const texts = ["plain", 'quote " backslash \\ tab \t line\nbreak', "emoji 🎰 देवनागरी", "photo", "last"];

  beforeAll(async () => {
    handle = await openTestDb(kind);
    deps = await httpTestDeps(handle);
    staffCookie = await signInCookie(deps, "asha@floorline.test");
    playerCookie = await signInCookie(deps, "player29@floorline.test");
    playerId = 29;
    // Microseconds that a millisecond rounding (instead of truncation) would change.
    const base = Date.parse("2026-11-26T10:00:00.000Z");
    await insertThread(handle.db, {
      playerId,
      texts,
      staffName: 'Asha "floor"',
      at: (i) => new Date(base + i * 61_001),
    });
    await handle.db.execute(sql`update chat_messages set timestamp = timestamp + interval '999 microseconds'`);
  });
  afterAll(async () => {
    await handle?.close();
  });

  /** What the page was before: the rows by a plain select, newest first, shown oldest first. */
  async function selected(before: number, limit: number) {
    const rows = await handle.db
      .select()
      .from(chatMessages)
      .where(and(eq(chatMessages.playerId, playerId), lt(chatMessages.seq, before)))
      .orderBy(desc(chatMessages.seq))
      .limit(limit + 1);
    const page = rows.slice(0, limit).reverse();
    return { messages: page, olderCursor: rows.length > limit ? page[0]?.seq : undefined };
  }

  const pages = [
    { cursor: undefined, limit: 50 },
    { cursor: undefined, limit: 2 },
    { cursor: 4, limit: 2 },
    { cursor: 2, limit: 5 },
    { cursor: 1, limit: 5 },
  ];

  it("threadPage answers the rows a select reads (Dates, photo, null cursor when nothing is older)", async () => {
    for (const { cursor, limit } of pages) {
      const expected = await selected(cursor ?? Number.MAX_SAFE_INTEGER, limit);
      const page = await threadPage(handle.db, { playerId, cursor, limit });
      expect(page).toStrictEqual(expected);
      expect(Object.keys(page.messages[0] ?? {})).toEqual(Object.keys(expected.messages[0] ?? {}));
    }
  });

  it("the REST page is that select as JSON, for staff and (without staff user ids) for the player", async () => {
    for (const { cursor, limit } of pages) {
      const query = `?limit=${limit}${cursor ? `&before=${cursor}` : ""}`;
      const expected = await selected(cursor ?? Number.MAX_SAFE_INTEGER, limit);
      const views: [string, (page: typeof expected) => typeof expected][] = [
        [staffCookie, (page) => page],
        [playerCookie, forPlayer],
      ];
      for (const [cookie, view] of views) {
        const response = await playerMessages(
          deps,
          jsonRequest(`/api/player-chat-integration/messages/${playerId}${query}`, { cookie }),
          { playerId: String(playerId) },
        );
        expect(response.status).toBe(200);
        expect(response.headers.get("content-type")).toMatch(/^application\/json/);
        const shown = view(expected);
        // Parsed, not byte for byte: Postgres writes a photo's JSON with spaces after ':' and ','.
        expect(JSON.parse(await response.text())).toStrictEqual(
          JSON.parse(JSON.stringify({ playerId, messages: shown.messages, olderCursor: shown.olderCursor ?? null })),
        );
      }
    }
  });
  it("reads a thread's rows with its reader's records only for a reader who may see them (review)", async () => {
    const userOf = async (id: number) => (await handle.db.select().from(players).where(eq(players.id, id)))[0]?.userId;
    const [staffRow] = await handle.db.select().from(staff).limit(1);
    const [own, other] = [await userOf(playerId), await userOf(30)];
    if (!own || !other || !staffRow) throw new Error("demo accounts missing");
    const pageFor = (userId: string) =>
      threadPageWithReader(handle.db, { userId, playerId, cursor: undefined, limit: 50 });
    expect((await pageFor(own)).page.count).toBe(texts.length);
    expect((await pageFor(staffRow.userId)).page.count).toBe(texts.length);
    // Another player is refused by the route; the rows must not have been read for them at all
    // (their cost, or a Server-Timing header, would tell how many messages someone else has).
    const foreign = await pageFor(other);
    expect(foreign.reader.playerId).toBe(30);
    expect(foreign.page.count).toBe(0);
    expect(foreign.page.messages).toBe("[]");
  });
});
