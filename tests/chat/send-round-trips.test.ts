import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { messagePlayer } from "@/server/chat/staff";
import { openTestDb } from "../support/db";
import { makePlayer, makeStaff } from "../support/fixtures";
import { statementsOf } from "../support/statements";

/**
 * Issue 11: each statement of a send is a round trip to Postgres and CPU in the web process. What
 * a send costs is counted at the driver (node-postgres), so this runs on Postgres only; the
 * same code runs on PGlite in every other send test.
 */
const onPostgres = !!process.env.TEST_DATABASE_URL;

describe.runIf(onPostgres)("a player's send and read in few round trips (Postgres: counted at the driver)", () => {
  let handle: DbHandle;
  beforeAll(async () => {
    handle = await openTestDb("postgres");
  });
  afterAll(async () => {
    await handle?.close();
  });

  it("sends in one statement, the player found by it: chat.send through tRPC, a new message and a retry", async () => {
    const sendLimit = { burst: 10, perSecond: 1 };
    const { caller } = await makePlayer(handle.db, "Counted", { sendLimit });
    await caller.chat.send({ id: randomUUID(), text: "first" }); // opens the chat

    const id = randomUUID();
    // chat_send_player_message: the player row locked (found by user id) with the allowance and
    // the clock, the id checked, the request locked, seq + allowance, insert, request touched;
    // alone it is its own transaction, so no BEGIN / COMMIT.
    const statements = await statementsOf(() => caller.chat.send({ id, text: "second" }));
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/chat_send_player_message/);

    // A retry of the stored id: the stored row, nothing written, no allowance taken.
    const retry = await statementsOf(() => caller.chat.send({ id, text: "second" }));
    expect(retry).toHaveLength(1);
  });

  it("stores a staff reply in one statement: staff.reply through tRPC, a new reply and a retry", async () => {
    const { caller } = await makePlayer(handle.db, "Answered");
    const staff = await makeStaff(handle.db, "Counting");
    const sent = await caller.chat.send({ id: randomUUID(), text: "help" });
    await staff.caller.staff.reply({ requestId: sent.request.id, id: randomUUID(), text: "first" }); // takes the chat

    const id = randomUUID();
    // chat_staff_reply: the player and request locked, the id checked, the holder rule, the first
    // response and the append, alone its own transaction.
    const statements = await statementsOf(() =>
      staff.caller.staff.reply({ requestId: sent.request.id, id, text: "2" }),
    );
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/chat_staff_reply/);

    // A retry of the stored id: the stored row, nothing written.
    const retry = await statementsOf(() => staff.caller.staff.reply({ requestId: sent.request.id, id, text: "2" }));
    expect(retry).toHaveLength(1);
  });

  it("stores a staff message by Player ID in one statement when the player's open chat is the sender's", async () => {
    const { player, caller } = await makePlayer(handle.db, "By id");
    const staff = await makeStaff(handle.db, "Integration");
    const sent = await caller.chat.send({ id: randomUUID(), text: "help" });
    await staff.caller.staff.claim({ requestId: sent.request.id });
    const by = { playerId: player.id, text: "from the floor", staff: staff.staff };

    const id = randomUUID();
    const statements = await statementsOf(() => messagePlayer(handle.db, { ...by, id }));
    expect(statements).toHaveLength(1);
    expect(statements[0]).toMatch(/chat_staff_reply/);
    const retry = await messagePlayer(handle.db, { ...by, id });
    expect(retry).toMatchObject({ duplicate: true, message: { id }, request: { id: sent.request.id } });
    const thread = (await caller.chat.history({})).messages.filter((m) => m.sender !== "system");
    expect(thread.map((m) => m.messageText)).toEqual(["help", "from the floor"]);
  });

  it("answers chat.me in one statement: the player row the procedure finds is the answer", async () => {
    const { caller } = await makePlayer(handle.db, "Reader");
    const statements = await statementsOf(() => caller.chat.me());
    expect(statements).toHaveLength(1);
    expect(await caller.chat.me()).toMatchObject({ displayName: "Reader" });
  });
});
