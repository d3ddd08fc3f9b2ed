import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { playerMessages, unifiedSend } from "@/server/http/club-api";
import type { HttpDeps } from "@/server/http/deps";
import { openTestDb } from "../support/db";
import { httpTestDeps, jsonRequest, signInCookie } from "../support/http";
import { statementsOf, withoutSessionReads } from "../support/statements";

/**
 * Issue 11: a thread page is read on every open of a chat and every catch-up. Counted at the
 * driver (node-postgres), so this runs on Postgres only; tests/http/club-api.test.ts checks what
 * the same route answers on both databases.
 */
describe.runIf(!!process.env.TEST_DATABASE_URL)("a thread page in few round trips (Postgres)", () => {
  let handle: DbHandle;
  let deps: HttpDeps;
  let staff: string;
  let player29: string;
  beforeAll(async () => {
    handle = await openTestDb("postgres");
    deps = await httpTestDeps(handle);
    player29 = await signInCookie(deps, "player29@floorline.test");
    staff = await signInCookie(deps, "asha@floorline.test");
    for (const text of ["one", "two", "three"]) {
      const sent = await unifiedSend(
        deps,
        jsonRequest("/api/unified-chat/send", { cookie: player29, body: { id: randomUUID(), text } }),
      );
      expect(sent.status).toBe(201);
    }
  });
  afterAll(async () => {
    await handle?.close();
  });

  const read = (query: string, cookie = staff) =>
    playerMessages(deps, jsonRequest(`/api/player-chat-integration/messages/29${query}`, { cookie }), {
      playerId: "29",
    });

  it("reads a page, and who is reading, in one statement once the session is known", async () => {
    for (const cookie of [staff, player29]) {
      await read("", cookie); // the session is checked (and cached) on the first request
      for (const query of ["", "?before=3&limit=1"]) {
        let status = 0;
        const statements = await statementsOf(async () => {
          status = (await read(query, cookie)).status;
        });
        expect(status).toBe(200);
        expect(withoutSessionReads(statements)).toHaveLength(1);
      }
    }
  });

  it("reads the messages of a player who has some without a separate look-up of the player", async () => {
    await read(""); // the session is checked (and cached) on the first request
    for (const query of ["", "?before=3&limit=1", "?sinceSeq=1"]) {
      let status = 0;
      const statements = await statementsOf(async () => {
        status = (await read(query)).status;
      });
      expect(status).toBe(200);
      // The reader's own records (and whether the reader is this player) may be read in the page's
      // statement; no statement of its own looks the thread's player up.
      const lookUps = statements.filter(
        (s) => /\bfrom "players" where "players"."id"/.test(s) && !/"chat_messages"/.test(s),
      );
      expect(lookUps).toEqual([]);
    }
  });

  it("still answers 404 for a player who does not exist", async () => {
    const missing = await playerMessages(
      deps,
      jsonRequest("/api/player-chat-integration/messages/9999", { cookie: staff }),
      { playerId: "9999" },
    );
    expect(missing.status).toBe(404);
  });
});
