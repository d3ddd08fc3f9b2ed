import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
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
});
