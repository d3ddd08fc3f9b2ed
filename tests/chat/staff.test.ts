import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { chatEvents, chatRequests } from "@/db/schema";
import { escalateLongWaits } from "@/server/chat/escalation";
import { messagePlayer } from "@/server/chat/staff";
import { openTestDb, testDbKinds } from "../support/db";
import { callerFor, makePlayer, makeStaff } from "../support/fixtures";
import { refusal } from "../support/trpc";

describe.each(testDbKinds)("staff work on %s", (kind) => {
  let handle: DbHandle;
  beforeAll(async () => {
    handle = await openTestDb(kind);
  });
  afterAll(async () => {
    await handle?.close();
  });

  const events = async (requestId: string) =>
    (await handle.db.select().from(chatEvents).where(eq(chatEvents.requestId, requestId)).orderBy(chatEvents.id)).map(
      (e) => e.type,
    );

  it("lists the queue with previews and unread counts, and a reply takes the chat", async () => {
    const player = await makePlayer(handle.db, "Queue Player");
    const asha = await makeStaff(handle.db, "Asha");
    const sent = await player.caller.chat.send({ id: randomUUID(), text: "first" });
    await player.caller.chat.send({ id: randomUUID(), text: "second" });
    const item = (await asha.caller.staff.queue()).find((i) => i.id === sent.request.id);
    expect(item).toMatchObject({
      status: "waiting",
      unreadCount: 2,
      lastMessage: { messageText: "second", sender: "player" },
    });

    const reply = await asha.caller.staff.reply({ requestId: sent.request.id, id: randomUUID(), text: "Hi!" });
    expect(reply.message).toMatchObject({ sender: "staff", seq: 3, senderName: "Asha" });
    expect(reply.request).toMatchObject({ status: "in_progress", assignedStaffId: asha.user.id });
    expect(reply.request.firstResponseAt).toBeInstanceOf(Date);
    expect(await events(sent.request.id)).toEqual(["created", "claimed"]);
    const history = await player.caller.chat.history({});
    expect(history.messages.map((m) => `${m.seq}:${m.sender}`)).toEqual(["1:player", "2:player", "3:staff"]);
  });

  it("lets exactly one of two staff take a chat when both press Take at once (a real race on Postgres only: PGlite runs one transaction at a time)", async () => {
    const player = await makePlayer(handle.db);
    const [a, b] = [await makeStaff(handle.db, "A"), await makeStaff(handle.db, "B")];
    const sent = await player.caller.chat.send({ id: randomUUID(), text: "help" });
    const results = await Promise.allSettled([
      a.caller.staff.claim({ requestId: sent.request.id }),
      b.caller.staff.claim({ requestId: sent.request.id }),
    ]);
    const won = results.filter((r) => r.status === "fulfilled");
    const lost = results.filter((r) => r.status === "rejected");
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect((lost[0] as PromiseRejectedResult).reason).toMatchObject({
      code: "CONFLICT",
      message: expect.stringMatching(/^Already taken by (A|B)$/),
    });
    expect(await events(sent.request.id)).toEqual(["created", "claimed"]);
  });

  it("keeps other staff from answering a chat someone holds", async () => {
    const player = await makePlayer(handle.db);
    const [a, b] = [await makeStaff(handle.db), await makeStaff(handle.db)];
    const sent = await player.caller.chat.send({ id: randomUUID(), text: "help" });
    await a.caller.staff.claim({ requestId: sent.request.id });
    const err = await refusal(b.caller.staff.reply({ requestId: sent.request.id, id: randomUUID(), text: "me too" }));
    // The holder rule is decided in the reply's statement (db/migrations/0013); these are the
    // words and code staff had from the TypeScript check before it, and nothing is stored.
    expect(err).toMatchObject({ code: "CONFLICT", message: "Another staff member is handling this chat" });
    expect((await refusal(b.caller.staff.resolve({ requestId: sent.request.id }))).code).toBe("CONFLICT");
    const held = await a.caller.staff.reply({ requestId: sent.request.id, id: randomUUID(), text: "mine" });
    const said = (await player.caller.chat.history({})).messages.filter((m) => m.sender !== "system");
    expect(said.map((m) => m.messageText)).toEqual(["help", "mine"]);
    expect(held.request).toMatchObject({ status: "in_progress", assignedStaffId: a.user.id });
  });

  it("keeps other staff from messaging, by Player ID, a player whose chat someone holds", async () => {
    const player = await makePlayer(handle.db);
    const [a, b] = [await makeStaff(handle.db), await makeStaff(handle.db)];
    const sent = await player.caller.chat.send({ id: randomUUID(), text: "help" });
    await a.caller.staff.claim({ requestId: sent.request.id });
    const by = { playerId: player.player.id, text: "me too" };
    const err = await messagePlayer(handle.db, { ...by, id: randomUUID(), staff: b.staff }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "CONFLICT", message: "Another staff member is handling this chat" });
    const own = await messagePlayer(handle.db, { ...by, id: randomUUID(), staff: a.staff });
    expect(own.request).toMatchObject({ id: sent.request.id, assignedStaffId: a.user.id });
  });

  it("refuses staff.reply to a staff sign-in without a staff record as every staff procedure does", async () => {
    const player = await makePlayer(handle.db);
    const sent = await player.caller.chat.send({ id: randomUUID(), text: "help" });
    // The reply finds the staff record in its own statement; staff.queue through staffProcedure.
    const id = randomUUID();
    const orphan = callerFor(handle.db, { id, name: "No record", email: `${id}@test.floorline`, role: "staff" });
    const reply = await refusal(orphan.staff.reply({ requestId: sent.request.id, id: randomUUID(), text: "x" }));
    const queue = await refusal(orphan.staff.queue());
    expect(reply).toMatchObject({ code: "FORBIDDEN", message: "Only staff can do this" });
    expect({ code: reply.code, message: reply.message }).toEqual({ code: queue.code, message: queue.message });
    const asPlayer = await refusal(
      player.caller.staff.reply({ requestId: sent.request.id, id: randomUUID(), text: "x" }),
    );
    expect(asPlayer).toMatchObject({ code: "FORBIDDEN", message: "Only staff can do this" });
    expect((await player.caller.chat.history({})).messages).toHaveLength(1);
  });

  it("a retried reply returns the stored message and stores nothing; the first response stays the first", async () => {
    const player = await makePlayer(handle.db);
    const asha = await makeStaff(handle.db, "Asha");
    const sent = await player.caller.chat.send({ id: randomUUID(), text: "help" });
    const id = randomUUID();
    const first = await asha.caller.staff.reply({ requestId: sent.request.id, id, text: "On it" });
    const retry = await asha.caller.staff.reply({ requestId: sent.request.id, id, text: "On it" });
    expect(first.duplicate).toBe(false);
    expect(retry).toMatchObject({ duplicate: true, message: { id, seq: first.message.seq, messageText: "On it" } });
    expect(retry.request.version).toBe(first.request.version);

    const later = await asha.caller.staff.reply({ requestId: sent.request.id, id: randomUUID(), text: "Done" });
    expect(later.request.firstResponseAt).toEqual(first.request.firstResponseAt);
    expect(first.request.firstResponseAt).toEqual(first.message.timestamp);
    expect(later.message.seq).toBe(first.message.seq + 1);
    expect(later.request.version).toBeGreaterThan(first.request.version);
    const history = await player.caller.chat.history({});
    expect(history.messages.map((m) => `${m.seq}:${m.messageText}`)).toEqual(["1:help", "2:On it", "3:Done"]);
    // The player's own message id is not the staff member's to reuse.
    const taken = await refusal(
      asha.caller.staff.reply({ requestId: sent.request.id, id: sent.message.id, text: "x" }),
    );
    expect(taken).toMatchObject({ code: "CONFLICT", message: "This message id is already used; send with a new id" });
  });

  it("resolves, refuses replies to resolved chats, reopens, and opens a new chat after", async () => {
    const player = await makePlayer(handle.db);
    const asha = await makeStaff(handle.db);
    const sent = await player.caller.chat.send({ id: randomUUID(), text: "one" });
    await asha.caller.staff.claim({ requestId: sent.request.id });
    const resolved = await asha.caller.staff.resolve({ requestId: sent.request.id });
    expect(resolved.status).toBe("resolved");
    expect(
      (await refusal(asha.caller.staff.reply({ requestId: sent.request.id, id: randomUUID(), text: "x" }))).message,
    ).toBe("This chat is resolved; reopen it to reply");
    const reopened = await asha.caller.staff.reopen({ requestId: sent.request.id });
    expect(reopened).toMatchObject({ status: "in_progress", assignedStaffId: asha.user.id, resolvedAt: null });
    await asha.caller.staff.resolve({ requestId: sent.request.id });

    const next = await player.caller.chat.send({ id: randomUUID(), text: "two" });
    expect(next.openedRequest).toBe(true);
    expect(next.request.id).not.toBe(sent.request.id);
    // One thread across requests; each change of hands is told in it, in order, between the messages.
    const thread = await player.caller.chat.since({ sinceSeq: 0 });
    expect(thread.messages.map((m) => [m.sender, m.messageText])).toEqual([
      ["player", "one"],
      ["system", `${asha.staff.displayName} is with you`],
      ["system", `Chat closed by ${asha.staff.displayName} — write any time to start again`],
      ["system", `${asha.staff.displayName} reopened the chat`],
      ["system", `Chat closed by ${asha.staff.displayName} — write any time to start again`],
      ["player", "two"],
    ]);
    expect(next.message.seq).toBe(6);
    expect((await refusal(asha.caller.staff.reopen({ requestId: sent.request.id }))).message).toBe(
      "The player already has an open chat",
    );
    expect(await events(sent.request.id)).toEqual(["created", "claimed", "resolved", "reopened", "resolved"]);
  });

  it("a repeated Resolve or Reopen by the same staff member succeeds quietly; by another it is a CONFLICT", async () => {
    const player = await makePlayer(handle.db);
    const [asha, vikram] = [await makeStaff(handle.db), await makeStaff(handle.db)];
    const sent = await player.caller.chat.send({ id: randomUUID(), text: "help" });
    const requestId = sent.request.id;
    await asha.caller.staff.claim({ requestId });
    const resolved = await asha.caller.staff.resolve({ requestId });
    // The answer was lost and the client retried: same row, nothing new written.
    expect(await asha.caller.staff.resolve({ requestId })).toEqual(resolved);
    expect((await refusal(vikram.caller.staff.resolve({ requestId }))).message).toBe("This chat is already resolved");

    const reopened = await asha.caller.staff.reopen({ requestId });
    expect(await asha.caller.staff.reopen({ requestId })).toEqual(reopened);
    expect((await refusal(vikram.caller.staff.reopen({ requestId }))).message).toBe("This chat is not resolved");
    expect(await events(requestId)).toEqual(["created", "claimed", "resolved", "reopened"]);
  });

  it("bumps the request's version with every change, and events carry it", async () => {
    const player = await makePlayer(handle.db);
    const asha = await makeStaff(handle.db);
    const first = await player.caller.chat.send({ id: randomUUID(), text: "one" });
    const second = await player.caller.chat.send({ id: randomUUID(), text: "two" });
    const claimed = await asha.caller.staff.claim({ requestId: first.request.id });
    const reply = await asha.caller.staff.reply({ requestId: first.request.id, id: randomUUID(), text: "hi" });
    const resolved = await asha.caller.staff.resolve({ requestId: first.request.id });
    const reopened = await asha.caller.staff.reopen({ requestId: first.request.id });
    const versions = [first.request, second.request, claimed, reply.request, resolved, reopened].map((r) => r.version);
    expect(versions).toEqual([...versions].sort((a, b) => a - b));
    expect(new Set(versions).size).toBe(versions.length);
    const [row] = await handle.db.select().from(chatRequests).where(eq(chatRequests.id, first.request.id));
    expect(row?.version).toBe(reopened.version);
  });

  it("moves receipts forward only, and counts them out of the unread badge", async () => {
    const player = await makePlayer(handle.db);
    const asha = await makeStaff(handle.db);
    const sent = await player.caller.chat.send({ id: randomUUID(), text: "a" });
    await player.caller.chat.send({ id: randomUUID(), text: "b" });
    const read = await asha.caller.staff.markMessages({ playerId: player.player.id, status: "read", upToSeq: 1 });
    expect(read.updated).toBe(1);
    const late = await asha.caller.staff.markMessages({ playerId: player.player.id, status: "received", upToSeq: 2 });
    expect(late.updated).toBe(1); // only seq 2; seq 1 stays read
    const history = await player.caller.chat.history({});
    expect(history.messages.map((m) => m.status)).toEqual(["read", "received"]);
    const item = (await asha.caller.staff.queue()).find((i) => i.id === sent.request.id);
    expect(item?.unreadCount).toBe(1);
  });

  it("messages a player by Player ID, opening a chat the sender holds", async () => {
    const player = await makePlayer(handle.db, "Walk-in");
    const asha = await makeStaff(handle.db);
    const result = await messagePlayer(handle.db, {
      playerId: player.player.id,
      id: randomUUID(),
      text: "Your table is ready",
      // The user id only: the statement finds the staff record, and with it the name (issue 11).
      staff: { userId: asha.user.id },
    });
    expect(result.request).toMatchObject({ status: "in_progress", assignedStaffId: asha.user.id });
    expect(result.message).toMatchObject({ seq: 1, sender: "staff", senderName: asha.staff.displayName });
    expect(await events(result.request.id)).toEqual(["created", "claimed"]);
    const actors = await handle.db.select().from(chatEvents).where(eq(chatEvents.requestId, result.request.id));
    expect(actors.map((e) => e.actorName)).toEqual([asha.staff.displayName, asha.staff.displayName]);
  });

  it("escalates a long wait once", async () => {
    const player = await makePlayer(handle.db);
    const sent = await player.caller.chat.send({ id: randomUUID(), text: "waiting" });
    expect((await escalateLongWaits(handle.db, { waitedMs: 60_000 })).map((r) => r.id)).not.toContain(sent.request.id);
    const later = new Date(Date.now() + 61_000);
    expect((await escalateLongWaits(handle.db, { waitedMs: 60_000, now: later })).map((r) => r.id)).toContain(
      sent.request.id,
    );
    expect((await escalateLongWaits(handle.db, { waitedMs: 60_000, now: later })).map((r) => r.id)).not.toContain(
      sent.request.id,
    );
    const [row] = await handle.db.select().from(chatRequests).where(eq(chatRequests.id, sent.request.id));
    expect(row?.escalatedAt).toEqual(later);
  });

  it("lets staff go off duty", async () => {
    const asha = await makeStaff(handle.db);
    expect((await asha.caller.staff.me()).acceptingChats).toBe(true);
    await asha.caller.staff.setAccepting({ accepting: false });
    expect((await asha.caller.staff.me()).acceptingChats).toBe(false);
  });

  it("reports an unknown request as NOT_FOUND", async () => {
    const asha = await makeStaff(handle.db);
    const calls = [
      () => asha.caller.staff.claim({ requestId: randomUUID() }),
      () => asha.caller.staff.conversation({ requestId: randomUUID() }),
      () => asha.caller.staff.reply({ requestId: randomUUID(), id: randomUUID(), text: "x" }),
    ];
    for (const call of calls) expect((await refusal(call())).code).toBe("NOT_FOUND");
  });
});
