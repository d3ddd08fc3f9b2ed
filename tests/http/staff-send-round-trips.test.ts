import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { integrationSend, unifiedSend } from "@/server/http/club-api";
import type { HttpDeps } from "@/server/http/deps";
import { cachedSession } from "@/server/session-cache";
import { openTestDb } from "../support/db";
import { httpTestDeps, jsonRequest, signInCookie } from "../support/http";
import { statementsOf } from "../support/statements";

/**
 * Issue 11: the bench's staff → player path is the club's REST send by Player ID. The reply
 * statement finds the staff record itself (db/migrations/0013), so the route must not look it up
 * first: that was a second round trip before every staff message. Counted at the driver
 * (node-postgres), so this runs on Postgres only; tests/http/club-api.test.ts checks the answers
 * on both databases.
 */
describe.runIf(!!process.env.TEST_DATABASE_URL)(
  "a staff message through the REST routes in one statement (Postgres)",
  () => {
    let handle: DbHandle;
    let deps: HttpDeps;
    let player29: string;
    let requestId: string;
    beforeAll(async () => {
      handle = await openTestDb("postgres");
      deps = await httpTestDeps(handle);
      player29 = await signInCookie(deps, "player29@floorline.test");
      const staff = await signInCookie(deps, "asha@floorline.test");
      const opened = await unifiedSend(
        deps,
        jsonRequest("/api/unified-chat/send", { cookie: player29, body: { id: randomUUID(), text: "help" } }),
      );
      requestId = ((await opened.json()) as { request: { id: string } }).request.id;
      // Asha takes the chat (and her session is checked and cached) with a first message.
      const first = await integrationSend(
        deps,
        jsonRequest("/api/player-chat-integration/send", {
          cookie: staff,
          body: { playerId: 29, id: randomUUID(), text: "on it" },
        }),
      );
      expect(first.status).toBe(201);
    });
    afterAll(async () => {
      await handle?.close();
    });

    /**
     * The send answers 201 and made one statement, the reply's. Asha's session is checked and
     * cached just before (a sign-in of its own): an entry cached in beforeAll was 4 s old by the
     * later tests when Postgres answered slowly (other sign-ins in between), and its re-read
     * (session-cache.ts's refresh ahead, or a lookup once expired) was counted as the send's.
     */
    async function expectOneStatement(send: (staff: string) => Promise<Response>) {
      const staff = await signInCookie(deps, "asha@floorline.test");
      await cachedSession(deps.auth, new Headers({ cookie: staff }));
      let status = 0;
      const statements = await statementsOf(async () => {
        status = (await send(staff)).status;
      });
      expect(status).toBe(201);
      expect(statements).toEqual([expect.stringMatching(/chat_staff_reply/)]);
    }

    it("player-chat-integration/send: by Player ID into the chat the sender holds", async () => {
      await expectOneStatement((staff) =>
        integrationSend(
          deps,
          jsonRequest("/api/player-chat-integration/send", {
            cookie: staff,
            body: { playerId: 29, id: randomUUID(), text: "from the floor" },
          }),
        ),
      );
    });

    // The bench's staff → player scenario begins with every player's chat waiting: its first second
    // is 100 of these. The reply statement takes the waiting chat itself (db/migrations/0015: the
    // capacity rule, the claim and its event, then the message), so the first message is one round
    // trip too; it was eight (the statement, BEGIN, the statement again, the staff lock, the claim's
    // UPDATE, its event, the statement a third time, COMMIT).
    /** A seeded player's first message: a new chat, waiting. */
    async function waitingChat(email: string) {
      const cookie = await signInCookie(deps, email);
      const opened = await unifiedSend(
        deps,
        jsonRequest("/api/unified-chat/send", { cookie, body: { id: randomUUID(), text: "anyone?" } }),
      );
      const { request } = (await opened.json()) as { request: { id: string; status: string } };
      expect(request.status).toBe("waiting");
      return request;
    }

    it("player-chat-integration/send: the first message to a waiting chat takes it in the one statement", async () => {
      await waitingChat("player30@floorline.test");
      const body = { playerId: 30, id: randomUUID(), text: "taking this" };
      await expectOneStatement((staff) =>
        integrationSend(deps, jsonRequest("/api/player-chat-integration/send", { cookie: staff, body })),
      );
    });

    it("unified-chat/send: the first reply by requestId to a waiting chat takes it in the one statement", async () => {
      const body = { requestId: (await waitingChat("player31@floorline.test")).id, id: randomUUID(), text: "here" };
      await expectOneStatement((staff) =>
        unifiedSend(deps, jsonRequest("/api/unified-chat/send", { cookie: staff, body })),
      );
    });

    it("unified-chat/send: a reply by requestId", async () => {
      await expectOneStatement((staff) =>
        unifiedSend(
          deps,
          jsonRequest("/api/unified-chat/send", {
            cookie: staff,
            body: { requestId, id: randomUUID(), text: "still here" },
          }),
        ),
      );
    });
  },
);
