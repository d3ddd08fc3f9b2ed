import { randomUUID } from "node:crypto";
import { and, count, eq, ne } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { chatMessages, chatRequests, staff as staffTable } from "@/db/schema";
import { integrationSend, playerMessages, unifiedSend } from "@/server/http/club-api";
import type { HttpDeps } from "@/server/http/deps";
import { openTestDb, testDbKinds } from "../support/db";
import { httpTestDeps, jsonRequest, signInCookie } from "../support/http";

describe.each(testDbKinds)("the club's REST endpoints on %s", (kind) => {
  let handle: DbHandle;
  let deps: HttpDeps;
  let player29: string;
  let player30: string;
  let staff: string;
  beforeAll(async () => {
    handle = await openTestDb(kind);
    deps = await httpTestDeps(handle);
    [player29, player30, staff] = await Promise.all([
      signInCookie(deps, "player29@floorline.test"),
      signInCookie(deps, "player30@floorline.test"),
      signInCookie(deps, "asha@floorline.test"),
    ]);
  });
  afterAll(async () => {
    await handle?.close();
  });

  const rows = async (playerId: number) =>
    (await handle.db.select({ n: count() }).from(chatMessages).where(eq(chatMessages.playerId, playerId)))[0]?.n;

  /** Each test makes its own state: a message from player 29, in their open chat (opened if need be). */
  async function player29Writes(text: string) {
    const res = await unifiedSend(
      deps,
      jsonRequest("/api/unified-chat/send", { cookie: player29, body: { id: randomUUID(), text } }),
    );
    expect(res.status).toBe(201);
    return (await res.json()) as { message: { seq: number }; request: { id: string } };
  }

  /** Frees player 29's open chat (a test before may have left it held), so Asha can take it. */
  async function resetPlayer29() {
    await handle.db
      .update(chatRequests)
      .set({ status: "resolved", resolvedAt: new Date() })
      .where(and(eq(chatRequests.playerId, 29), ne(chatRequests.status, "resolved")));
  }

  it("a player sends through unified-chat/send; a resend returns the stored row with 200", async () => {
    const id = randomUUID();
    const first = await unifiedSend(
      deps,
      jsonRequest("/api/unified-chat/send", { cookie: player29, body: { id, text: "Cash out please" } }),
    );
    expect(first.status).toBe(201);
    const body = await first.json();
    expect(body.message).toMatchObject({ id, playerId: 29, sender: "player", messageText: "Cash out please" });
    const again = await unifiedSend(
      deps,
      jsonRequest("/api/unified-chat/send", { cookie: player29, body: { id, text: "Cash out please" } }),
    );
    expect(again.status).toBe(200);
    expect((await again.json()).duplicate).toBe(true);
  });

  it("takes the seed's body: `message` for the text, no id (the server picks one), answers success and the id", async () => {
    const res = await unifiedSend(
      deps,
      jsonRequest("/api/unified-chat/send", { cookie: player29, body: { message: "Seed-style hello" } }),
    );
    expect(res.status).toBe(201);
    const body = await res.json();
    expect(body).toMatchObject({ success: true, id: expect.any(String) });
    expect(body.message).toMatchObject({ id: body.id, messageText: "Seed-style hello", sender: "player" });
    const [stored] = await handle.db.select().from(chatMessages).where(eq(chatMessages.id, body.id));
    expect(stored?.messageText).toBe("Seed-style hello");

    const integration = await integrationSend(
      deps,
      jsonRequest("/api/player-chat-integration/send", {
        cookie: staff,
        body: { playerId: 29, message: "Seed reply" },
      }),
    );
    expect(integration.status).toBe(201);
    expect(await integration.json()).toMatchObject({ success: true, id: expect.any(String) });
  });

  it("staff answer a chat by requestId and the player reads the thread", async () => {
    await resetPlayer29();
    const asked = await player29Writes("Cash out please");
    const reply = await unifiedSend(
      deps,
      jsonRequest("/api/unified-chat/send", {
        cookie: staff,
        body: { id: randomUUID(), text: "On it", requestId: asked.request.id },
      }),
    );
    expect(reply.status).toBe(201);
    const read = await playerMessages(
      deps,
      jsonRequest("/api/player-chat-integration/messages/29", { cookie: player29 }),
      {
        playerId: "29",
      },
    );
    expect(read.status).toBe(200);
    const thread = await read.json();
    expect(thread.messages.slice(-2).map((m: { messageText: string }) => m.messageText)).toEqual([
      "Cash out please",
      "On it",
    ]);
    const since = await playerMessages(
      deps,
      jsonRequest(`/api/player-chat-integration/messages/29?sinceSeq=${asked.message.seq}`, { cookie: staff }),
      { playerId: "29" },
    );
    expect((await since.json()).messages.map((m: { seq: number }) => m.seq)).toEqual([asked.message.seq + 1]);
  });

  it("staff message a player by Player ID through player-chat-integration/send", async () => {
    const id = randomUUID();
    const res = await integrationSend(
      deps,
      jsonRequest("/api/player-chat-integration/send", {
        cookie: staff,
        body: { playerId: 31, id, text: "Your table is ready" },
      }),
    );
    expect(res.status).toBe(201);
    const body = await res.json();
    expect(body.request).toMatchObject({ playerId: 31, status: "in_progress" });
    expect(body.message).toMatchObject({ id, sender: "staff" });

    // Into the chat the sender now holds (one statement), then its retry, then an unknown player.
    const byId = (playerId: number, messageId: string) =>
      integrationSend(
        deps,
        jsonRequest("/api/player-chat-integration/send", {
          cookie: staff,
          body: { playerId, id: messageId, text: "Seat 4" },
        }),
      );
    const next = randomUUID();
    const more = await byId(31, next);
    expect(more.status).toBe(201);
    expect(await more.json()).toMatchObject({ id: next, request: { id: body.request.id } });
    const retried = await byId(31, next);
    expect(retried.status).toBe(200);
    expect(await retried.json()).toMatchObject({ duplicate: true, message: { id: next, seq: body.message.seq + 1 } });
    const unknown = await byId(9999, randomUUID());
    expect(unknown.status).toBe(404);
    expect((await unknown.json()).error.message).toBe("Player 9999 not found");
  });

  it("refuses a staff member at their limit a new chat by Player ID with 409, storing nothing", async () => {
    await resetPlayer29();
    const open = (await player29Writes("Anyone there?")).request;
    const took = await unifiedSend(
      deps,
      jsonRequest("/api/unified-chat/send", {
        cookie: staff,
        body: { id: randomUUID(), text: "Asha here", requestId: open.id },
      }),
    );
    expect(took.status).toBe(201);
    const [asha] = await handle.db.select().from(staffTable).where(eq(staffTable.displayName, "Asha (floor)"));
    if (!asha) throw new Error("seeded Asha missing");
    const [held] = await handle.db
      .select({ n: count() })
      .from(chatRequests)
      .where(and(eq(chatRequests.assignedStaffId, asha.userId), eq(chatRequests.status, "in_progress")));
    const limit = held?.n ?? 0;
    await handle.db
      .update(chatRequests)
      .set({ status: "resolved", resolvedAt: new Date() })
      .where(and(eq(chatRequests.playerId, 30), ne(chatRequests.status, "resolved")));
    const before = await rows(30);
    await handle.db.update(staffTable).set({ maxConcurrentChats: limit }).where(eq(staffTable.userId, asha.userId));
    try {
      const res = await integrationSend(
        deps,
        jsonRequest("/api/player-chat-integration/send", {
          cookie: staff,
          body: { playerId: 30, id: randomUUID(), text: "Your table is ready" },
        }),
      );
      expect(res.status).toBe(409);
      expect((await res.json()).error.message).toBe(`You are at your limit of ${limit}`);
      expect(await rows(30)).toBe(before);
      const opened = await handle.db
        .select()
        .from(chatRequests)
        .where(and(eq(chatRequests.playerId, 30), ne(chatRequests.status, "resolved")));
      expect(opened).toEqual([]);
    } finally {
      await handle.db
        .update(staffTable)
        .set({ maxConcurrentChats: asha.maxConcurrentChats })
        .where(eq(staffTable.userId, asha.userId));
    }
  });

  it("refuses anonymous callers with 401 and other players' threads with 403", async () => {
    const anon = await playerMessages(deps, jsonRequest("/api/player-chat-integration/messages/29"), {
      playerId: "29",
    });
    expect(anon.status).toBe(401);
    const nosy = await playerMessages(
      deps,
      jsonRequest("/api/player-chat-integration/messages/29", { cookie: player30 }),
      {
        playerId: "29",
      },
    );
    expect(nosy.status).toBe(403);
    expect((await nosy.json()).error.message).toMatch(/only read your own/);
    const impersonate = await integrationSend(
      deps,
      jsonRequest("/api/player-chat-integration/send", {
        cookie: player30,
        body: { playerId: 29, id: randomUUID(), text: "hi" },
      }),
    );
    expect(impersonate.status).toBe(403);
  });

  it("answers 404 for an unknown player and 409 for a chat taken by someone else", async () => {
    const missing = await playerMessages(
      deps,
      jsonRequest("/api/player-chat-integration/messages/9999", { cookie: staff }),
      {
        playerId: "9999",
      },
    );
    expect(missing.status).toBe(404);
    const vikram = await signInCookie(deps, "vikram@floorline.test");
    await resetPlayer29();
    const open = (await player29Writes("Anyone?")).request;
    const answer = (cookie: string, text: string) =>
      unifiedSend(
        deps,
        jsonRequest("/api/unified-chat/send", { cookie, body: { id: randomUUID(), text, requestId: open.id } }),
      );
    expect((await answer(staff, "Asha here")).status).toBe(201);
    const taken = await answer(vikram, "me too");
    expect(taken.status).toBe(409);
    expect((await taken.json()).error.message).toBe("Another staff member is handling this chat");
  });

  it.each([
    ["malformed JSON", { raw: "{not json" }, 400, /not valid JSON/],
    ["an empty text", { body: { id: randomUUID(), text: "  " } }, 400, /cannot be empty/],
    ["an unknown field", { body: { id: randomUUID(), text: "hi", extra: 1 } }, 400, /Unrecognized key/],
    ["a bad id", { body: { id: "x", text: "hi" } }, 400, /must be a UUID/],
    ["both text and message", { body: { id: randomUUID(), text: "hi", message: "hi" } }, 400, /Unrecognized key/],
  ])("refuses %s with a 4xx JSON error and stores nothing", async (_label, input, status, message) => {
    const before = await rows(30);
    const res = await unifiedSend(deps, jsonRequest("/api/unified-chat/send", { cookie: player30, ...input }));
    expect(res.status).toBe(status);
    const body = await res.json();
    expect(body.error.message).toMatch(message);
    expect(await rows(30)).toBe(before);
  });

  it("gives field errors for a bad Player ID in the path", async () => {
    const res = await playerMessages(
      deps,
      jsonRequest("/api/player-chat-integration/messages/abc", { cookie: staff }),
      {
        playerId: "abc",
      },
    );
    expect(res.status).toBe(400);
    expect((await res.json()).error.message).toMatch(/Player ID must be a number/);
  });
});
