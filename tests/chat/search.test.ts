import { randomUUID } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { chatMessages } from "@/db/schema";
import { openTestDb, testDbKinds } from "../support/db";
import { makePlayer, makeStaff } from "../support/fixtures";
import { refusal } from "../support/trpc";

describe.each(testDbKinds)("search past chats on %s", (kind) => {
  let handle: DbHandle;
  beforeAll(async () => {
    handle = await openTestDb(kind);
  });
  afterAll(async () => {
    await handle?.close();
  });

  it("finds by message words, player name and Player ID, newest first, in pages", async () => {
    const asha = await makeStaff(handle.db, "Asha S");
    const zara = await makePlayer(handle.db, "Zarathustra Mehta");
    const other = await makePlayer(handle.db, "Other Person");
    for (let i = 0; i < 5; i++) await zara.caller.chat.send({ id: randomUUID(), text: `withdrawal number ${i}` });
    await other.caller.chat.send({ id: randomUUID(), text: "My Withdrawal is late" });
    await other.caller.chat.send({ id: randomUUID(), text: "nothing to see" });

    const words = await asha.caller.staff.search({ q: "withdrawal", limit: 4 });
    expect(words.hits.map((h) => h.messageText)).toEqual([
      "My Withdrawal is late",
      "withdrawal number 4",
      "withdrawal number 3",
      "withdrawal number 2",
    ]);
    const page2 = await asha.caller.staff.search({ q: "withdrawal", limit: 4, cursor: words.next });
    expect(page2.hits.map((h) => h.messageText)).toEqual(["withdrawal number 1", "withdrawal number 0"]);
    expect(page2.next).toBeUndefined();

    const byName = await asha.caller.staff.search({ q: "zarathustra" });
    expect(byName.hits).toHaveLength(5);
    expect(byName.hits.every((h) => h.playerName === "Zarathustra Mehta")).toBe(true);
    const byId = await asha.caller.staff.search({ q: String(other.player.id) });
    expect(byId.hits.map((h) => h.messageText)).toEqual(["nothing to see", "My Withdrawal is late"]);
    // Query syntax is words, not operators: punctuation cannot break the query.
    expect((await asha.caller.staff.search({ q: "late & | !(" })).hits.map((h) => h.messageText)).toEqual([
      "My Withdrawal is late",
    ]);
    expect((await refusal(asha.caller.staff.search({ q: "  " }))).code).toBe("BAD_REQUEST");
    expect((await refusal(zara.caller.staff.search({ q: "withdrawal" }))).code).toBe("FORBIDDEN");
  });

  it("pages by the stored microseconds: messages within one millisecond are each found exactly once, in order", async () => {
    const asha = await makeStaff(handle.db, "Asha P");
    const player = await makePlayer(handle.db, "Micro Second");
    const word = `micro${randomUUID().slice(0, 8)}`;
    const ids: string[] = [];
    for (let i = 0; i < 6; i++) {
      ids.push((await player.caller.chat.send({ id: randomUUID(), text: `${word} ${i}` })).message.id);
    }
    // Same millisecond, different microseconds (a JS Date cannot tell them apart), and two exact ties.
    const micros = [1, 2, 3, 3, 999, 999];
    for (const [i, id] of ids.entries()) {
      await handle.db
        .update(chatMessages)
        .set({ timestamp: sql`timestamptz '2026-11-25 10:00:00.123000+00' + ${micros[i]} * interval '1 microsecond'` })
        .where(eq(chatMessages.id, id));
    }
    const seen: string[] = [];
    let cursor: Awaited<ReturnType<typeof asha.caller.staff.search>>["next"];
    for (let page = 0; page < 10; page++) {
      const result = await asha.caller.staff.search({ q: word, limit: 1, cursor });
      seen.push(...result.hits.map((h) => h.messageText));
      cursor = result.next;
      if (!cursor) break;
      // The cursor carries the stored instant in full, as text: it survives JSON and superjson alike.
      expect(cursor.at).toMatch(/^2026-11-25T10:00:00\.123\d{3}Z$/);
    }
    const byIdDesc = (a: number, b: number) => ((ids[a] ?? "") < (ids[b] ?? "") ? 1 : -1);
    expect(seen).toEqual([[4, 5].sort(byIdDesc), [2, 3].sort(byIdDesc), [1], [0]].flat().map((i) => `${word} ${i}`));
  });
});
