import { randomUUID } from "node:crypto";
import { and, desc, eq, ne } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { type ChatRequest, chatEvents, chatMessages, chatRequests, staff } from "@/db/schema";
import { assignWaiting } from "@/server/chat/actions";
import type { StaffActor } from "@/server/chat/actors";
import { autoAssign, claimRequest, releaseRequest, takeOverRequest, transferRequest } from "@/server/chat/assignment";
import { ChatError } from "@/server/chat/errors";
import { silentGateway } from "@/server/chat/gateway";
import { reopenRequest, resolveRequest } from "@/server/chat/lifecycle";
import { sendPlayerMessage } from "@/server/chat/send";
import { messagePlayer, replyAsStaff } from "@/server/chat/staff";
import { openTestDb, testDbKinds } from "../support/db";
import { makePlayer, makeStaff } from "../support/fixtures";

const ROUNDS = Number(process.env.RACE_ROUNDS ?? 1000);
const actorOf = (s: { userId: string; displayName: string }) => ({ userId: s.userId, displayName: s.displayName });

async function refused(p: Promise<unknown>) {
  try {
    await p;
  } catch (err) {
    if (err instanceof ChatError) return err;
    throw err;
  }
  throw new Error("expected a refusal");
}

describe.each(testDbKinds)("who holds a chat, on %s", (kind) => {
  let handle: DbHandle;
  beforeAll(async () => {
    handle = await openTestDb(kind);
  });
  afterAll(async () => {
    await handle?.close();
  });

  async function waitingChat() {
    const { player } = await makePlayer(handle.db);
    const sent = await sendPlayerMessage(handle.db, {
      id: randomUUID(),
      text: "help",
      player: { userId: player.userId },
    });
    return sent.request;
  }
  const member = async (name: string, capacity = 5) => {
    const made = await makeStaff(handle.db, name);
    await handle.db.update(staff).set({ maxConcurrentChats: capacity }).where(eq(staff.userId, made.user.id));
    return actorOf(made.staff);
  };
  const timeline = async (requestId: string) =>
    (await handle.db.select().from(chatEvents).where(eq(chatEvents.requestId, requestId)).orderBy(chatEvents.id)).map(
      (e) => [e.type, e.actorName, e.targetName],
    );

  it("a claim names who already took the chat, and refuses a staff member at their limit", async () => {
    const asha = await member("Asha", 1);
    const vikram = await member("Vikram", 1);
    const first = await waitingChat();
    await claimRequest(handle.db, { requestId: first.id, staff: asha });
    expect((await refused(claimRequest(handle.db, { requestId: first.id, staff: vikram }))).message).toBe(
      "Already taken by Asha",
    );
    // A retry of Asha's own claim is not a conflict.
    expect((await claimRequest(handle.db, { requestId: first.id, staff: asha })).assignedStaffId).toBe(asha.userId);
    const second = await waitingChat();
    const err = await refused(claimRequest(handle.db, { requestId: second.id, staff: asha }));
    expect(err).toMatchObject({ code: "CONFLICT", message: "You are at your limit of 1" });
    await handle.db.update(staff).set({ acceptingChats: false }).where(eq(staff.userId, vikram.userId));
    expect((await refused(claimRequest(handle.db, { requestId: second.id, staff: vikram }))).message).toBe(
      "You are not accepting chats",
    );
  });

  it("transfer moves a held chat to a colleague with room, refuses one at capacity, and is recorded", async () => {
    const asha = await member("Asha T", 2);
    const full = await member("Full", 1);
    const free = await member("Free", 2);
    const request = await waitingChat();
    await claimRequest(handle.db, { requestId: request.id, staff: asha });
    await claimRequest(handle.db, { requestId: (await waitingChat()).id, staff: full });

    const err = await refused(
      transferRequest(handle.db, { requestId: request.id, staff: asha, toUserId: full.userId }),
    );
    expect(err).toMatchObject({ code: "CONFLICT", message: "Full is at their limit of 1" });
    expect(
      (await refused(transferRequest(handle.db, { requestId: request.id, staff: free, toUserId: asha.userId })))
        .message,
    ).toBe("Only the staff member holding this chat can transfer it");

    const moved = await transferRequest(handle.db, { requestId: request.id, staff: asha, toUserId: free.userId });
    // claim and transfer, each with its system line ("… is with you"): four version bumps.
    expect(moved).toMatchObject({ status: "in_progress", assignedStaffId: free.userId, version: request.version + 4 });
    // The same transfer retried (its answer lost) returns the row, not a conflict.
    expect(
      (await transferRequest(handle.db, { requestId: request.id, staff: asha, toUserId: free.userId })).version,
    ).toBe(moved.version);
    expect(await timeline(request.id)).toEqual([
      ["created", expect.any(String), null],
      ["claimed", "Asha T", null],
      ["transferred", "Asha T", "Free"],
    ]);
  });

  it("release puts a chat back in the queue; an admin takes over any open chat", async () => {
    const asha = await member("Asha R");
    const admin = await member("Admin");
    const request = await waitingChat();
    await claimRequest(handle.db, { requestId: request.id, staff: asha });
    const released = await releaseRequest(handle.db, { requestId: request.id, staff: asha });
    expect(released).toMatchObject({ status: "waiting", assignedStaffId: null });
    expect((await releaseRequest(handle.db, { requestId: request.id, staff: asha })).version).toBe(released.version);
    await claimRequest(handle.db, { requestId: request.id, staff: asha });
    const taken = await takeOverRequest(handle.db, { requestId: request.id, staff: admin });
    expect(taken).toMatchObject({ status: "in_progress", assignedStaffId: admin.userId });
    expect((await timeline(request.id)).map((e) => e[0])).toEqual([
      "created",
      "claimed",
      "released",
      "claimed",
      "taken_over",
    ]);
    expect((await timeline(request.id)).at(-1)).toEqual(["taken_over", "Admin", "Asha R"]);
  });

  it("a release tells the player they are back in the queue, in the thread", async () => {
    const asha = await member("Asha L");
    const request = await waitingChat();
    await claimRequest(handle.db, { requestId: request.id, staff: asha });
    const released = await releaseRequest(handle.db, { requestId: request.id, staff: asha });
    expect(released.systemLine).toMatchObject({
      sender: "system",
      messageText: "Asha L put your chat back in the queue — the next free staff member will answer",
    });
    const [last] = await handle.db
      .select()
      .from(chatMessages)
      .where(eq(chatMessages.requestId, request.id))
      .orderBy(desc(chatMessages.seq))
      .limit(1);
    expect(last?.id).toBe(released.systemLine?.id);
    // A retry adds no second line.
    const again = await releaseRequest(handle.db, { requestId: request.id, staff: asha });
    expect(again.systemLine).toBeUndefined();
    expect(again.version).toBe(released.version);
  });

  it("a reply to a waiting chat takes it only within capacity; at the limit it is refused and nothing is stored", async () => {
    const asha = await member("Asha C", 1);
    const first = await waitingChat();
    const answered = await replyAsStaff(handle.db, { requestId: first.id, id: randomUUID(), text: "hi", staff: asha });
    expect(answered.request).toMatchObject({ status: "in_progress", assignedStaffId: asha.userId });
    const second = await waitingChat();
    const id = randomUUID();
    const err = await refused(replyAsStaff(handle.db, { requestId: second.id, id, text: "me too", staff: asha }));
    expect(err).toMatchObject({ code: "CONFLICT", message: "You are at your limit of 1" });
    const [after] = await handle.db.select().from(chatRequests).where(eq(chatRequests.id, second.id));
    expect(after).toMatchObject({ status: "waiting", assignedStaffId: null, version: second.version });
    expect(await handle.db.select().from(chatMessages).where(eq(chatMessages.id, id))).toEqual([]);
    // Off duty counts the same way as a full hand.
    const offDuty = await member("Off Duty", 3);
    await handle.db.update(staff).set({ acceptingChats: false }).where(eq(staff.userId, offDuty.userId));
    expect(
      (await refused(replyAsStaff(handle.db, { requestId: second.id, id, text: "me", staff: offDuty }))).message,
    ).toBe("You are not accepting chats");
  });

  /** A staff message into a player's chat, named by its request id or by the player's Player ID. */
  const firstReply = (by: "requestId" | "playerId", chat: ChatRequest, id: string, s: StaffActor) =>
    by === "requestId"
      ? replyAsStaff(handle.db, { requestId: chat.id, id, text: "hi", staff: s })
      : messagePlayer(handle.db, { playerId: chat.playerId, id, text: "hi", staff: s });

  // Issue 11: the reply statement takes a waiting chat itself (db/migrations/0015), by requestId
  // and by Player ID, with what Take records: the holder, claimed_at, one `claimed` event, the
  // version bumped by the claim and again by the message.
  it("a first reply to a waiting chat, by requestId or by Player ID, takes it with one claimed event", async () => {
    const asha = await member("Asha F", 2);
    for (const by of ["requestId", "playerId"] as const) {
      const waiting = await waitingChat();
      const id = randomUUID();
      const answered = await firstReply(by, waiting, id, asha);
      expect(answered.duplicate).toBe(false);
      expect(answered.message).toMatchObject({ id, requestId: waiting.id, sender: "staff", senderName: "Asha F" });
      expect(answered.request).toMatchObject({ status: "in_progress", assignedStaffId: asha.userId });
      expect(answered.request.claimedAt).toBeInstanceOf(Date);
      expect(answered.request.firstResponseAt).toBeInstanceOf(Date);
      expect(answered.request.version).toBe(waiting.version + 2);
      expect(await timeline(waiting.id)).toEqual([
        ["created", waiting.playerName, null],
        ["claimed", "Asha F", null],
      ]);
      // A retry of the same reply is the stored row: no second claim, nothing written.
      const again = await firstReply(by, waiting, id, asha);
      expect(again).toMatchObject({ duplicate: true, request: { version: answered.request.version } });
      expect((await timeline(waiting.id)).filter(([type]) => type === "claimed")).toHaveLength(1);
    }
  });

  it("a first message by Player ID to a waiting chat at the limit or off duty is refused and nothing is stored", async () => {
    const asha = await member("Asha L", 1);
    await replyAsStaff(handle.db, { requestId: (await waitingChat()).id, id: randomUUID(), text: "hi", staff: asha });
    const waiting = await waitingChat();
    const id = randomUUID();
    const err = await refused(
      messagePlayer(handle.db, { playerId: waiting.playerId, id, text: "me too", staff: asha }),
    );
    expect(err).toMatchObject({ code: "CONFLICT", message: "You are at your limit of 1" });
    const offDuty = await member("Off Duty L", 3);
    await handle.db.update(staff).set({ acceptingChats: false }).where(eq(staff.userId, offDuty.userId));
    const err2 = await refused(
      messagePlayer(handle.db, { playerId: waiting.playerId, id, text: "me", staff: offDuty }),
    );
    expect(err2).toMatchObject({ code: "CONFLICT", message: "You are not accepting chats" });
    const [after] = await handle.db.select().from(chatRequests).where(eq(chatRequests.id, waiting.id));
    expect(after).toMatchObject({
      status: "waiting",
      assignedStaffId: null,
      claimedAt: null,
      version: waiting.version,
    });
    expect(await handle.db.select().from(chatMessages).where(eq(chatMessages.id, id))).toEqual([]);
    expect(await timeline(waiting.id)).toEqual([["created", waiting.playerName, null]]);
  });

  it("two staff replying to the same waiting chat at once: exactly one holds it, the other is refused and stores nothing", async () => {
    const [a, b] = [await member("Racer A", 3), await member("Racer B", 3)];
    for (const by of ["requestId", "playerId"] as const) {
      const waiting = await waitingChat();
      const ids = [randomUUID(), randomUUID()];
      const results = await Promise.allSettled([a, b].map((s, i) => firstReply(by, waiting, ids[i] as string, s)));
      const won = results.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
      expect(won).toHaveLength(1);
      const lost = results.find((r) => r.status === "rejected") as PromiseRejectedResult;
      expect(lost.reason).toMatchObject({ code: "CONFLICT", message: "Another staff member is handling this chat" });
      const winner = won[0]?.request.assignedStaffId;
      const loserId = ids[winner === a.userId ? 1 : 0] as string;
      expect(await handle.db.select().from(chatMessages).where(eq(chatMessages.id, loserId))).toEqual([]);
      expect((await timeline(waiting.id)).filter(([type]) => type === "claimed")).toHaveLength(1);
    }
  });

  it("a chat a staff member starts by Player ID counts toward their capacity: at the limit it is refused and nothing is stored", async () => {
    const asha = await member("Asha S", 1);
    const first = await makePlayer(handle.db);
    const started = await messagePlayer(handle.db, {
      playerId: first.player.id,
      id: randomUUID(),
      text: "Your table is ready",
      staff: asha,
    });
    expect(started.request).toMatchObject({ status: "in_progress", assignedStaffId: asha.userId });
    expect(await timeline(started.request.id)).toEqual([
      ["created", "Asha S", null],
      ["claimed", "Asha S", null],
    ]);

    const second = await makePlayer(handle.db);
    const id = randomUUID();
    const err = await refused(
      messagePlayer(handle.db, { playerId: second.player.id, id, text: "And yours", staff: asha }),
    );
    expect(err).toMatchObject({ code: "CONFLICT", message: "You are at your limit of 1" });
    expect(await handle.db.select().from(chatRequests).where(eq(chatRequests.playerId, second.player.id))).toEqual([]);
    expect(await handle.db.select().from(chatMessages).where(eq(chatMessages.id, id))).toEqual([]);

    // Into the chat she already holds is not a new chat: still allowed at the limit.
    const more = await messagePlayer(handle.db, {
      playerId: first.player.id,
      id: randomUUID(),
      text: "Table 4",
      staff: asha,
    });
    expect(more.request.id).toBe(started.request.id);
  });

  it("off duty does not stop a staff member starting a chat they will hold (within capacity)", async () => {
    const offDuty = await member("Off Duty S", 1);
    await handle.db.update(staff).set({ acceptingChats: false }).where(eq(staff.userId, offDuty.userId));
    const { player } = await makePlayer(handle.db);
    const started = await messagePlayer(handle.db, {
      playerId: player.id,
      id: randomUUID(),
      text: "Hi",
      staff: offDuty,
    });
    expect(started.request).toMatchObject({ status: "in_progress", assignedStaffId: offDuty.userId });
    const other = await makePlayer(handle.db);
    const err = await refused(
      messagePlayer(handle.db, { playerId: other.player.id, id: randomUUID(), text: "Hi", staff: offDuty }),
    );
    expect(err).toMatchObject({ code: "CONFLICT", message: "You are at your limit of 1" });
  });

  it("a reopen makes the reopener hold the chat, so it counts toward their capacity: at the limit it is refused and the chat stays resolved", async () => {
    const asha = await member("Asha R", 1);
    const done = await waitingChat();
    await claimRequest(handle.db, { requestId: done.id, staff: asha });
    const resolved = await resolveRequest(handle.db, { requestId: done.id, staff: asha });
    await claimRequest(handle.db, { requestId: (await waitingChat()).id, staff: asha });
    const err = await refused(reopenRequest(handle.db, { requestId: done.id, staff: asha }));
    expect(err).toMatchObject({ code: "CONFLICT", message: "You are at your limit of 1" });
    const [after] = await handle.db.select().from(chatRequests).where(eq(chatRequests.id, done.id));
    expect(after).toMatchObject({ status: "resolved", version: resolved.version });
    expect((await timeline(done.id)).at(-1)?.[0]).toBe("resolved");
    // Off duty, with room, a reopen still works: like starting a chat, it is the staff member's own act.
    const offDuty = await member("Off Duty R", 1);
    await handle.db.update(staff).set({ acceptingChats: false }).where(eq(staff.userId, offDuty.userId));
    const reopened = await reopenRequest(handle.db, { requestId: done.id, staff: offDuty });
    expect(reopened).toMatchObject({ status: "in_progress", assignedStaffId: offDuty.userId, resolvedAt: null });
  });

  it("auto-assignment gives the longest-waiting chat to the accepting staff member with the fewest open chats", async () => {
    await handle.db.update(staff).set({ acceptingChats: false });
    await handle.db.update(chatRequests).set({ status: "resolved" }).where(ne(chatRequests.status, "resolved"));
    const busy = await member("Busy", 3);
    const idle = await member("Idle", 3);
    await claimRequest(handle.db, { requestId: (await waitingChat()).id, staff: busy });
    await claimRequest(handle.db, { requestId: (await waitingChat()).id, staff: busy });
    const older = await waitingChat();
    const newer = await waitingChat();
    // Off: nothing moves.
    expect(await assignWaiting({ db: handle.db, realtime: silentGateway })).toEqual([]);
    const assigned = await assignWaiting({ db: handle.db, realtime: silentGateway, autoAssign: true });
    expect(assigned.map((r) => [r.id, r.assignedStaffId])).toEqual([
      [older.id, idle.userId],
      [newer.id, idle.userId],
    ]);
    expect((await timeline(older.id)).at(-1)).toEqual(["auto_assigned", null, "Idle"]);
    await handle.db.update(staff).set({ acceptingChats: false });
  });
});

/** Real concurrency needs real Postgres: PGlite runs one transaction at a time. */
describe.runIf(!!process.env.TEST_DATABASE_URL)("assignment races on Postgres", () => {
  let handle: DbHandle;
  beforeAll(async () => {
    handle = await openTestDb("postgres");
  });
  afterAll(async () => {
    await handle?.close();
  });

  it(`${ROUNDS} rounds of 20 concurrent claims on one request: exactly one winner each`, {
    timeout: 600_000,
  }, async () => {
    const claimers = await Promise.all(
      Array.from({ length: 20 }, async (_, i) => actorOf((await makeStaff(handle.db, `Claimer ${i}`)).staff)),
    );
    await handle.db.update(staff).set({ maxConcurrentChats: ROUNDS + 1 });
    const { player } = await makePlayer(handle.db);
    const p = { id: player.id, userId: player.userId, displayName: player.displayName };
    for (let round = 0; round < ROUNDS; round++) {
      const { request } = await sendPlayerMessage(handle.db, { id: randomUUID(), text: `r${round}`, player: p });
      const results = await Promise.allSettled(
        claimers.map((s) => claimRequest(handle.db, { requestId: request.id, staff: s })),
      );
      const won = results.filter((r) => r.status === "fulfilled");
      expect(won).toHaveLength(1);
      const winner = won[0]?.status === "fulfilled" ? won[0].value.assignedStaffId : null;
      const name = claimers.find((c) => c.userId === winner)?.displayName;
      for (const r of results) {
        if (r.status === "rejected") expect(r.reason).toMatchObject({ message: `Already taken by ${name}` });
      }
      await handle.db.update(chatRequests).set({ status: "resolved" }).where(eq(chatRequests.id, request.id));
    }
  });

  it("one staff member of capacity 2 claiming 10 chats at once gets exactly 2", { timeout: 120_000 }, async () => {
    for (let round = 0; round < 50; round++) {
      const made = await makeStaff(handle.db, `Greedy ${round}`);
      await handle.db.update(staff).set({ maxConcurrentChats: 2 }).where(eq(staff.userId, made.user.id));
      const ids = [];
      for (let i = 0; i < 10; i++) {
        const { player } = await makePlayer(handle.db);
        const p = { id: player.id, userId: player.userId, displayName: player.displayName };
        ids.push((await sendPlayerMessage(handle.db, { id: randomUUID(), text: "hi", player: p })).request.id);
      }
      const results = await Promise.allSettled(
        ids.map((requestId) => claimRequest(handle.db, { requestId, staff: actorOf(made.staff) })),
      );
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(2);
      await handle.db.update(chatRequests).set({ status: "resolved" }).where(ne(chatRequests.status, "resolved"));
    }
  });

  it("two chats started at once by one staff member with one slot left: exactly one opens", {
    timeout: 120_000,
  }, async () => {
    for (let round = 0; round < 20; round++) {
      const made = await makeStaff(handle.db, `One slot ${round}`);
      await handle.db.update(staff).set({ maxConcurrentChats: 1 }).where(eq(staff.userId, made.user.id));
      const players = [(await makePlayer(handle.db)).player, (await makePlayer(handle.db)).player];
      const results = await Promise.allSettled(
        players.map((p) =>
          messagePlayer(handle.db, { playerId: p.id, id: randomUUID(), text: "hi", staff: actorOf(made.staff) }),
        ),
      );
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      const lost = results.find((r) => r.status === "rejected");
      expect(lost?.reason).toMatchObject({ code: "CONFLICT", message: "You are at your limit of 1" });
      const open = await handle.db
        .select()
        .from(chatRequests)
        .where(and(eq(chatRequests.assignedStaffId, made.user.id), ne(chatRequests.status, "resolved")));
      expect(open).toHaveLength(1);
      // The refused one left nothing behind: exactly one of the two players has a chat at all.
      const rows = await Promise.all(
        players.map((p) => handle.db.select().from(chatRequests).where(eq(chatRequests.playerId, p.id))),
      );
      expect(rows.flat()).toHaveLength(1);
    }
  });

  it("two reopens at once by one staff member with one slot left: exactly one reopens", {
    timeout: 120_000,
  }, async () => {
    for (let round = 0; round < 20; round++) {
      const made = await makeStaff(handle.db, `Reopen slot ${round}`);
      const me = actorOf(made.staff);
      await handle.db.update(staff).set({ maxConcurrentChats: 1 }).where(eq(staff.userId, made.user.id));
      const done = [];
      for (let i = 0; i < 2; i++) {
        const { player } = await makePlayer(handle.db);
        const p = { id: player.id, userId: player.userId, displayName: player.displayName };
        const { request } = await sendPlayerMessage(handle.db, { id: randomUUID(), text: "hi", player: p });
        await claimRequest(handle.db, { requestId: request.id, staff: me });
        await resolveRequest(handle.db, { requestId: request.id, staff: me });
        done.push(request.id);
      }
      const results = await Promise.allSettled(
        done.map((requestId) => reopenRequest(handle.db, { requestId, staff: me })),
      );
      expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
      expect(results.find((r) => r.status === "rejected")?.reason).toMatchObject({
        code: "CONFLICT",
        message: "You are at your limit of 1",
      });
      const open = await handle.db
        .select()
        .from(chatRequests)
        .where(and(eq(chatRequests.assignedStaffId, made.user.id), ne(chatRequests.status, "resolved")));
      expect(open).toHaveLength(1);
    }
  });

  it("10 concurrent auto-assign triggers never give staff of capacity 2 more than 2 open chats", {
    timeout: 300_000,
  }, async () => {
    for (let round = 0; round < 20; round++) {
      await handle.db.update(staff).set({ acceptingChats: false });
      const team = await Promise.all(
        [0, 1, 2].map(async (i) => {
          const made = await makeStaff(handle.db, `Cap2 ${round}.${i}`);
          await handle.db.update(staff).set({ maxConcurrentChats: 2 }).where(eq(staff.userId, made.user.id));
          return made.user.id;
        }),
      );
      const waiting = [];
      for (let i = 0; i < 10; i++) {
        const { player } = await makePlayer(handle.db);
        const p = { id: player.id, userId: player.userId, displayName: player.displayName };
        waiting.push((await sendPlayerMessage(handle.db, { id: randomUUID(), text: "hi", player: p })).request.id);
      }
      const runs = await Promise.all(Array.from({ length: 10 }, () => autoAssign(handle.db)));
      expect(runs.flat()).toHaveLength(6);
      for (const userId of team) {
        const open = await handle.db
          .select()
          .from(chatRequests)
          .where(and(eq(chatRequests.assignedStaffId, userId), ne(chatRequests.status, "resolved")));
        expect(open).toHaveLength(2);
      }
      // The six longest-waiting went first.
      const assignedIds = runs.flat().map((r) => r.id);
      expect(new Set(assignedIds)).toEqual(new Set(waiting.slice(0, 6)));
      await handle.db.update(chatRequests).set({ status: "resolved" }).where(ne(chatRequests.status, "resolved"));
    }
  });
});
