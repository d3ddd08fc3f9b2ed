import { randomUUID } from "node:crypto";
import { and, eq, ne } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { chatMessages, chatRequests } from "@/db/schema";
import { claimRequest } from "@/server/chat/assignment";
import { reopenRequest, resolveRequest } from "@/server/chat/lifecycle";
import { sendPlayerMessage } from "@/server/chat/send";
import { openTestDb } from "../support/db";
import { makePlayer, makeStaff } from "../support/fixtures";

/**
 * Send against Claim / Resolve on the same player, many rounds, on real Postgres: PGlite runs one
 * transaction at a time, so nothing races there. CI sets TEST_DATABASE_URL; without it these
 * tests are absent locally and this file fails in CI.
 */
const ROUNDS = Number(process.env.RACE_ROUNDS ?? 1000);
const onPostgres = !!process.env.TEST_DATABASE_URL;
if (process.env.CI && !onPostgres) {
  throw new Error(
    "CI must set TEST_DATABASE_URL: the race tests need Postgres (PGlite runs one transaction at a time)",
  );
}

describe.runIf(onPostgres)("races on one player's chat (Postgres only: PGlite cannot race)", () => {
  let handle: DbHandle;
  beforeAll(async () => {
    handle = await openTestDb("postgres");
  });
  afterAll(async () => {
    await handle?.close();
  });

  /** A player with a fresh waiting request (their first message in it) and a staff member. */
  async function freshChat() {
    const { player } = await makePlayer(handle.db);
    const { staff } = await makeStaff(handle.db);
    const actor = { userId: staff.userId, displayName: staff.displayName };
    const p = { id: player.id, userId: player.userId, displayName: player.displayName };
    return { p, actor };
  }

  async function checkThread(playerId: number) {
    const rows = await handle.db.select().from(chatMessages).where(eq(chatMessages.playerId, playerId));
    const seqs = rows.map((r) => r.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: rows.length }, (_, i) => i + 1));
    const open = await handle.db
      .select()
      .from(chatRequests)
      .where(and(eq(chatRequests.playerId, playerId), ne(chatRequests.status, "resolved")));
    expect(open.length).toBeLessThanOrEqual(1);
    return rows;
  }

  it(`send × resolve, ${ROUNDS} rounds: a message never lands in a resolved chat`, { timeout: 600_000 }, async () => {
    const { p, actor } = await freshChat();
    let landedBefore = 0;
    let openedNew = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const first = await sendPlayerMessage(handle.db, { id: randomUUID(), text: `r${round} first`, player: p });
      const request = first.request;
      const [sent, resolved] = await Promise.all([
        sendPlayerMessage(handle.db, { id: randomUUID(), text: `r${round} second`, player: p }),
        resolveRequest(handle.db, { requestId: request.id, staff: actor }),
      ]);
      expect(resolved.status).toBe("resolved");
      if (sent.message.requestId === request.id) {
        // It landed in the old chat, so it must have landed before the resolve: the resolve saw it
        // (a later version; lastMessageAt now belongs to the resolve's own system line).
        landedBefore++;
        expect(sent.request.status).toBe("waiting");
        expect(resolved.version).toBeGreaterThan(sent.request.version);
      } else {
        // The resolve came first: the message opened a new chat.
        openedNew++;
        expect(sent.openedRequest).toBe(true);
        expect(sent.request.status).toBe("waiting");
        // Close the new chat too, so the next round starts clean.
        await resolveRequest(handle.db, { requestId: sent.request.id, staff: actor });
      }
      const [stored] = await handle.db.select().from(chatRequests).where(eq(chatRequests.id, request.id));
      expect(stored?.status).toBe("resolved");
      expect(stored?.version).toBe(resolved.version);
    }
    const rows = await checkThread(p.id);
    expect(rows.filter((r) => r.sender === "player")).toHaveLength(ROUNDS * 2);
    expect(landedBefore + openedNew).toBe(ROUNDS);
  });

  it(`send × claim, ${ROUNDS} rounds: the send's event carries the state it committed into`, {
    timeout: 600_000,
  }, async () => {
    const { p, actor } = await freshChat();
    for (let round = 0; round < ROUNDS; round++) {
      const first = await sendPlayerMessage(handle.db, { id: randomUUID(), text: `c${round} first`, player: p });
      const [sent, claimed] = await Promise.all([
        sendPlayerMessage(handle.db, { id: randomUUID(), text: `c${round} second`, player: p }),
        claimRequest(handle.db, { requestId: first.request.id, staff: actor }),
      ]);
      expect(sent.message.requestId).toBe(first.request.id);
      // Every change bumps the version, so the later of the two holds the higher one.
      const claimSawMessage = claimed.version > sent.request.version;
      if (claimSawMessage) {
        expect(sent.request.status).toBe("waiting");
        expect(claimed.version).toBeGreaterThan(sent.request.version);
      } else {
        // The claim committed first: the send's event must say so, not the stale "waiting".
        expect(sent.request).toMatchObject({ status: "in_progress", assignedStaffId: actor.userId });
        expect(sent.request.version).toBeGreaterThan(claimed.version);
      }
      await resolveRequest(handle.db, { requestId: first.request.id, staff: actor });
    }
    // Claim and resolve add system lines; the players' own messages are the ones counted.
    expect((await checkThread(p.id)).filter((r) => r.sender === "player")).toHaveLength(ROUNDS * 2);
  });

  it("send × reopen × resolve keep one open chat and gap-free seqs", { timeout: 120_000 }, async () => {
    const { p, actor } = await freshChat();
    for (let round = 0; round < Math.min(ROUNDS, 200); round++) {
      const first = await sendPlayerMessage(handle.db, { id: randomUUID(), text: `o${round}`, player: p });
      await resolveRequest(handle.db, { requestId: first.request.id, staff: actor });
      const [sent, reopened] = await Promise.allSettled([
        sendPlayerMessage(handle.db, { id: randomUUID(), text: `o${round} again`, player: p }),
        reopenRequest(handle.db, { requestId: first.request.id, staff: actor }),
      ]);
      expect(sent.status).toBe("fulfilled");
      if (sent.status !== "fulfilled") continue;
      if (reopened.status === "fulfilled") {
        // Reopen won the lock: the message joined the reopened chat.
        expect(sent.value.message.requestId).toBe(first.request.id);
        expect(sent.value.request.status).toBe("in_progress");
      } else {
        expect(sent.value.openedRequest).toBe(true);
      }
      await resolveRequest(handle.db, { requestId: sent.value.request.id, staff: actor });
    }
    await checkThread(p.id);
  });
});
