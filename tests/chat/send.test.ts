import { randomUUID } from "node:crypto";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { chatEvents, chatMessages, chatRequests, user } from "@/db/schema";
import { openTestDb, testDbKinds } from "../support/db";
import { callerFor, makePlayer, makeStaff } from "../support/fixtures";
import { refusal } from "../support/trpc";

describe.each(testDbKinds)("chat send and history on %s", (kind) => {
  let handle: DbHandle;
  beforeAll(async () => {
    handle = await openTestDb(kind);
  });
  afterAll(async () => {
    await handle?.close();
  });

  const messageCount = async (playerId: number) => {
    const [row] = await handle.db.select({ n: count() }).from(chatMessages).where(eq(chatMessages.playerId, playerId));
    return row?.n ?? 0;
  };

  it("stores a message, opens a request, and shows it in the player's history", async () => {
    const { caller, player } = await makePlayer(handle.db, "Ravi");
    const id = randomUUID();
    const sent = await caller.chat.send({ id, text: "  Need help with a withdrawal  " });

    expect(sent.duplicate).toBe(false);
    expect(sent.openedRequest).toBe(true);
    expect(sent.message).toMatchObject({
      id,
      seq: 1,
      sender: "player",
      messageText: "Need help with a withdrawal",
      status: "sent",
    });
    expect(sent.request).toMatchObject({
      playerId: player.id,
      status: "waiting",
      initialMessage: "Need help with a withdrawal",
    });

    const second = await caller.chat.send({ id: randomUUID(), text: "Are you there?" });
    expect(second.openedRequest).toBe(false);
    expect(second.request.id).toBe(sent.request.id);
    expect(second.message.seq).toBe(2);

    const history = await caller.chat.history({});
    expect(history.messages.map((m) => m.messageText)).toEqual(["Need help with a withdrawal", "Are you there?"]);
    const events = await handle.db.select().from(chatEvents).where(eq(chatEvents.requestId, sent.request.id));
    expect(events.map((e) => e.type)).toEqual(["created"]);
  });

  it("stores a resent id once and returns the stored row", async () => {
    const { caller, player } = await makePlayer(handle.db);
    const id = randomUUID();
    const first = await caller.chat.send({ id, text: "hello once" });
    const again = await caller.chat.send({ id, text: "hello once" });
    expect(again.duplicate).toBe(true);
    expect(again.message).toEqual(first.message);
    expect(await messageCount(player.id)).toBe(1);
  });

  it("stores concurrent retries of one id once, with gap-free seq (a real race on Postgres only: PGlite runs one transaction at a time)", async () => {
    const { caller, player } = await makePlayer(handle.db);
    const id = randomUUID();
    const results = await Promise.all(Array.from({ length: 5 }, () => caller.chat.send({ id, text: "racing" })));
    expect(new Set(results.map((r) => r.message.seq))).toEqual(new Set([1]));
    expect(results.filter((r) => !r.duplicate)).toHaveLength(1);
    const next = await caller.chat.send({ id: randomUUID(), text: "after" });
    expect(next.message.seq).toBe(2);
    expect(await messageCount(player.id)).toBe(2);
  });

  it("opens one request even when first messages race (a real race on Postgres only)", async () => {
    const { caller, player } = await makePlayer(handle.db);
    await Promise.all(Array.from({ length: 4 }, (_, i) => caller.chat.send({ id: randomUUID(), text: `m${i}` })));
    const requests = await handle.db.select().from(chatRequests).where(eq(chatRequests.playerId, player.id));
    expect(requests).toHaveLength(1);
    const history = await caller.chat.history({});
    expect(history.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4]);
  });

  it("pages history by seq and returns what came after a seq", async () => {
    const { caller } = await makePlayer(handle.db);
    for (let i = 1; i <= 5; i++) await caller.chat.send({ id: randomUUID(), text: `m${i}` });
    const newest = await caller.chat.history({ limit: 2 });
    expect(newest.messages.map((m) => m.messageText)).toEqual(["m4", "m5"]);
    expect(newest.olderCursor).toBe(4);
    const older = await caller.chat.history({ limit: 2, cursor: newest.olderCursor });
    expect(older.messages.map((m) => m.messageText)).toEqual(["m2", "m3"]);
    const missed = await caller.chat.since({ sinceSeq: 3 });
    expect(missed.messages.map((m) => m.seq)).toEqual([4, 5]);
    expect(missed.hasMore).toBe(false);
  });

  it("keeps player A out of player B's messages", async () => {
    const a = await makePlayer(handle.db, "A");
    const b = await makePlayer(handle.db, "B");
    const secretId = randomUUID();
    await b.caller.chat.send({ id: secretId, text: "B's secret" });
    await a.caller.chat.send({ id: randomUUID(), text: "A's own" });

    const aHistory = await a.caller.chat.history({});
    expect(aHistory.messages.map((m) => m.messageText)).toEqual(["A's own"]);
    expect((await a.caller.chat.since({ sinceSeq: 0 })).messages.map((m) => m.messageText)).toEqual(["A's own"]);
    // Reusing B's message id must neither return B's row nor write anything.
    const err = await refusal(a.caller.chat.send({ id: secretId, text: "steal" }));
    expect(err.code).toBe("CONFLICT");
    expect(err.message).not.toContain("secret");
    // A player is not staff.
    expect((await refusal(a.caller.staff.queue())).code).toBe("FORBIDDEN");
    expect((await refusal(a.caller.staff.thread({ playerId: b.player.id }))).code).toBe("FORBIDDEN");
  });

  it("refuses anonymous callers and staff on the player API", async () => {
    const anonymous = callerFor(handle.db, null);
    expect((await refusal(anonymous.chat.send({ id: randomUUID(), text: "hi" }))).code).toBe("UNAUTHORIZED");
    expect((await refusal(anonymous.chat.history({}))).code).toBe("UNAUTHORIZED");
    expect((await refusal(anonymous.staff.queue())).code).toBe("UNAUTHORIZED");
    const { caller: staffCaller } = await makeStaff(handle.db);
    expect((await refusal(staffCaller.chat.send({ id: randomUUID(), text: "hi" }))).code).toBe("FORBIDDEN");
  });

  it("refuses a signed-in player without a player record, writing nothing", async () => {
    const id = randomUUID();
    await handle.db.insert(user).values({ id, name: "No record", email: `${id}@test.floorline`, role: "player" });
    const orphan = callerFor(handle.db, { id, name: "No record", email: `${id}@test.floorline`, role: "player" });
    const err = await refusal(orphan.chat.send({ id: randomUUID(), text: "hi" }));
    expect(err.code).toBe("FORBIDDEN");
    expect(err.message).toBe("Only players can do this");
    expect((await refusal(orphan.chat.history({}))).code).toBe("FORBIDDEN");
  });

  it.each([
    ["empty text", { id: randomUUID(), text: "" }, "Message cannot be empty"],
    ["whitespace-only text", { id: randomUUID(), text: " \n\t " }, "Message cannot be empty"],
    ["text over 2,000 characters", { id: randomUUID(), text: "x".repeat(2001) }, "at most 2000 characters"],
    ["a malformed id", { id: "not-a-uuid", text: "hello" }, "Message id must be a UUID"],
    ["an unknown field", { id: randomUUID(), text: "hello", admin: true }, "Unrecognized key"],
  ])("refuses %s with BAD_REQUEST and writes nothing", async (_label, input, expected) => {
    const { caller, player } = await makePlayer(handle.db);
    const err = await refusal(caller.chat.send(input as { id: string; text: string }));
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toContain(expected);
    expect(await messageCount(player.id)).toBe(0);
    const requests = await handle.db.select().from(chatRequests).where(eq(chatRequests.playerId, player.id));
    expect(requests).toHaveLength(0);
  });

  it("accepts exactly 2,000 characters", async () => {
    const { caller } = await makePlayer(handle.db);
    const sent = await caller.chat.send({ id: randomUUID(), text: "y".repeat(2000) });
    expect(sent.message.messageText).toHaveLength(2000);
  });
});
