import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import type { ChatMessage, ChatRequest } from "@/db/schema";
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
