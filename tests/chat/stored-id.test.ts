import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Db, type DbHandle, rowsOf } from "@/db/client";
import type { ChatMessage, ChatRequest } from "@/db/schema";
import { sendPlayerMessage } from "@/server/chat/send";
import { messagePlayer } from "@/server/chat/staff";
import { openTestDb, testDbKinds } from "../support/db";
import { makePlayer, makeStaff } from "../support/fixtures";

/**
 * One rule for a message id that is already stored (chat_stored_message, db/migrations/0014):
 * the same sender in the same player's thread gets the stored row back, with the chat it was
 * stored in, whatever the retry says now (other text, another chat named); anyone else is
 * refused. Every path that stores a message must answer a retry the same way.
 */
describe.each(testDbKinds)("a stored message id on %s", (kind) => {
  let handle: DbHandle;
  beforeAll(async () => {
    handle = await openTestDb(kind);
  });
  afterAll(async () => {
    await handle?.close();
  });

  type Answered = { duplicate: boolean; message: ChatMessage; request: ChatRequest };
  const answer = (r: Answered) => ({
    duplicate: r.duplicate,
    message: { id: r.message.id, seq: r.message.seq, text: r.message.messageText, requestId: r.message.requestId },
    requestId: r.request.id,
  });

  /** The code a call was refused with, from tRPC (TRPCError) or the domain (ChatError) alike. */
  const refusedWith = (call: Promise<unknown>) =>
    call.then(
      () => "accepted",
      (err: { code?: string }) => err.code,
    );

  it("is answered with the stored row in its own chat on every path, and refused to anyone else", async () => {
    const { player, caller } = await makePlayer(handle.db);
    const asha = await makeStaff(handle.db);
    const playerMsg = randomUUID();
    const staffMsg = randomUUID();
    const first = await caller.chat.send({ id: playerMsg, text: "first chat" });
    const reply = await asha.caller.staff.reply({ requestId: first.request.id, id: staffMsg, text: "answered" });
    await asha.caller.staff.resolve({ requestId: first.request.id });
    const stored = (r: Answered) => ({ ...answer(r), duplicate: true, requestId: first.request.id });
    const byId = { playerId: player.id, text: "other words", staff: asha.staff };

    // No chat open: the player's send would open one, messagePlayer would start one.
    expect(answer(await caller.chat.send({ id: playerMsg, text: "other words" }))).toEqual(stored(first));
    expect(answer(await messagePlayer(handle.db, { ...byId, id: staffMsg }))).toEqual(stored(reply));
    expect(await refusedWith(messagePlayer(handle.db, { ...byId, id: playerMsg }))).toBe("CONFLICT");

    // A second chat, open and held by the same staff member: a retry names it, the message is the first chat's.
    const second = await caller.chat.send({ id: randomUUID(), text: "second chat" });
    await asha.caller.staff.claim({ requestId: second.request.id });
    expect(answer(await caller.chat.send({ id: playerMsg, text: "other words" }))).toEqual(stored(first));
    expect(
      answer(await asha.caller.staff.reply({ requestId: second.request.id, id: staffMsg, text: "other words" })),
    ).toEqual(stored(reply));
    expect(answer(await messagePlayer(handle.db, { ...byId, id: staffMsg }))).toEqual(stored(reply));

    // Someone else's id, on every path.
    const refused = [
      await refusedWith(caller.chat.send({ id: staffMsg, text: "x" })),
      await refusedWith(asha.caller.staff.reply({ requestId: second.request.id, id: playerMsg, text: "x" })),
      await refusedWith(messagePlayer(handle.db, { ...byId, id: playerMsg })),
    ];
    expect(refused).toEqual(["CONFLICT", "CONFLICT", "CONFLICT"]);

    // Nothing was written by any retry.
    const thread = (await caller.chat.history({})).messages.filter((m) => m.sender !== "system");
    expect(thread.map((m) => m.messageText)).toEqual(["first chat", "answered", "second chat"]);
  });
});

/**
 * Two players' sends of one id at the same moment take different player locks, so neither sees
 * the other's row before its insert: the primary key decides, and the loser is told the id is
 * taken (409), never a 5xx. Postgres only: PGlite has one connection and never runs two at once.
 */
describe.each(testDbKinds.filter((k) => k === "postgres"))("a message id raced by two players on %s", (kind) => {
  let handle: DbHandle;
  beforeAll(async () => {
    handle = await openTestDb(kind);
  });
  afterAll(async () => {
    await handle?.close();
  });

  it("refuses the send that lost the race as a conflict", async () => {
    const asha = await makePlayer(handle.db);
    const ben = await makePlayer(handle.db);
    const id = randomUUID();
    let bens: Promise<string> | undefined;
    await handle.db.transaction(async (tx) => {
      // Asha's send is stored but not yet committed when Ben's arrives with the same id.
      await sendPlayerMessage(tx as unknown as Db, { id, text: "asha", player: asha.player });
      bens = sendPlayerMessage(handle.db, { id, text: "ben", player: ben.player }).then(
        () => "accepted",
        (err: { code?: string }) => err.code ?? String(err),
      );
      // Ben's insert waits on the primary key for Asha's transaction.
      await expect
        .poll(async () => {
          const [row] = await rowsOf<{ waiting: number }>(
            handle.db,
            sql`select count(*)::int as waiting from pg_stat_activity
              where wait_event_type = 'Lock' and query like '%chat_send_player_message%'`,
          );
          return row?.waiting;
        })
        .toBe(1);
    });
    expect(await bens).toBe("CONFLICT");
  });
});
