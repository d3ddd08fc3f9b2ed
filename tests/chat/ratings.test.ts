import { randomUUID } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { openTestDb, testDbKinds } from "../support/db";
import { makePlayer, makeStaff } from "../support/fixtures";
import { refusal } from "../support/trpc";

describe.each(testDbKinds)("rating a chat on %s", (kind) => {
  let handle: DbHandle;
  beforeAll(async () => {
    handle = await openTestDb(kind);
  });
  afterAll(async () => {
    await handle?.close();
  });

  /** A chat the player opened and staff took and closed. */
  async function resolvedChat() {
    const player = await makePlayer(handle.db);
    const asha = await makeStaff(handle.db, "Asha");
    const sent = await player.caller.chat.send({ id: randomUUID(), text: "help" });
    await asha.caller.staff.claim({ requestId: sent.request.id });
    await asha.caller.staff.resolve({ requestId: sent.request.id });
    return { player, asha, requestId: sent.request.id };
  }

  it("the player rates a closed chat once, staff see the rating, and a retry of the same rating is no error", async () => {
    const { player, asha, requestId } = await resolvedChat();
    expect((await player.caller.chat.status()).lastResolved).toEqual({
      id: requestId,
      staffName: "Asha",
      rating: null,
    });

    expect(await player.caller.chat.rate({ requestId, rating: 4 })).toEqual({ requestId, rating: 4 });
    expect(await player.caller.chat.rate({ requestId, rating: 4 })).toEqual({ requestId, rating: 4 });
    expect((await refusal(player.caller.chat.rate({ requestId, rating: 1 }))).message).toBe(
      "You have already rated this chat",
    );
    expect((await player.caller.chat.status()).lastResolved).toEqual({ id: requestId, staffName: "Asha", rating: 4 });
    expect((await asha.caller.staff.conversation({ requestId })).rating).toBe(4);
  });

  it("refuses a chat that is still open, and another player's chat as if it did not exist", async () => {
    const player = await makePlayer(handle.db);
    const open = await player.caller.chat.send({ id: randomUUID(), text: "still here" });
    const err = await refusal(player.caller.chat.rate({ requestId: open.request.id, rating: 5 }));
    expect(err).toMatchObject({ code: "CONFLICT", message: "You can rate a chat once it is closed" });
    expect((await player.caller.chat.status()).lastResolved).toBeNull();

    const { requestId } = await resolvedChat();
    const other = await makePlayer(handle.db);
    expect(await refusal(other.caller.chat.rate({ requestId, rating: 5 }))).toMatchObject({
      code: "NOT_FOUND",
      message: "No such chat",
    });
    expect(await refusal(other.caller.chat.rate({ requestId: randomUUID(), rating: 5 }))).toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it.each([0, 6, 2.5, "5", null])("refuses the rating %s with a sentence, not a database error", async (rating) => {
    const { player, requestId } = await resolvedChat();
    const err = await refusal(player.caller.chat.rate({ requestId, rating: rating as number }));
    expect(err.code).toBe("BAD_REQUEST");
    expect(err.message).toContain("Rating must be a whole number from 1 to 5");
  });

  it("staff may not rate, and the chat's rating is null until the player gives one", async () => {
    const { asha, requestId } = await resolvedChat();
    expect((await refusal(asha.caller.chat.rate({ requestId, rating: 5 }))).code).toBe("FORBIDDEN");
    expect((await asha.caller.staff.conversation({ requestId })).rating).toBeNull();
  });
});
