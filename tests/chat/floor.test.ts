import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { user } from "@/db/schema";
import { EVENTS, STAFF_CHANNEL } from "@/protocol/channels";
import type { OutgoingEvent } from "@/server/chat/announce";
import { type RealtimeGateway, silentGateway } from "@/server/chat/gateway";
import { openTestDb, testDbKinds } from "../support/db";
import { callerFor, makePlayer, makeStaff } from "../support/fixtures";
import { refusal } from "../support/trpc";

/** Every event the app publishes, to check what reaches which channel. */
function recordingGateway() {
  const published: OutgoingEvent[] = [];
  const gateway: RealtimeGateway = {
    ...silentGateway,
    publish: async (events) => {
      published.push(...events);
    },
  };
  return { gateway, published };
}

describe.each(testDbKinds)("notes, canned replies, timeline, admin procedures on %s", (kind) => {
  let handle: DbHandle;
  beforeAll(async () => {
    handle = await openTestDb(kind);
  });
  afterAll(async () => {
    await handle?.close();
  });

  async function makeAdmin(name = "Admin") {
    const made = await makeStaff(handle.db, name);
    await handle.db.update(user).set({ role: "admin" }).where(eq(user.id, made.user.id));
    return callerFor(handle.db, { ...made.user, role: "admin" });
  }

  it("a note is visible to staff, in the timeline, and reaches no player procedure or channel", async () => {
    const { gateway, published } = recordingGateway();
    const player = await makePlayer(handle.db, "Noted", { realtime: gateway });
    const asha = await makeStaff(handle.db, "Asha N", { realtime: gateway });
    const sent = await player.caller.chat.send({ id: randomUUID(), text: "where is my cashout" });
    await asha.caller.staff.claim({ requestId: sent.request.id });
    const secret = `NOTE-${randomUUID()}`;
    await asha.caller.staff.addNote({ requestId: sent.request.id, text: secret });
    await asha.caller.staff.reply({ requestId: sent.request.id, id: randomUUID(), text: "On it" });

    expect((await asha.caller.staff.notes({ requestId: sent.request.id })).map((n) => n.text)).toEqual([secret]);
    expect((await asha.caller.staff.timeline({ requestId: sent.request.id })).map((e) => e.type)).toEqual([
      "created",
      "claimed",
      "note_added",
    ]);
    const seen = JSON.stringify([
      await player.caller.chat.history({}),
      await player.caller.chat.since({ sinceSeq: 0 }),
      await player.caller.chat.status(),
      published,
    ]);
    expect(seen).toContain("On it");
    expect(seen).not.toContain(secret);
    // Other staff screens are told a note was added (to refetch it), on the staff channel only.
    expect(published.filter((e) => e.name === EVENTS.chatNoteAdded)).toEqual([
      { channel: STAFF_CHANNEL, name: EVENTS.chatNoteAdded, data: { requestId: sent.request.id } },
    ]);
    // Staff procedures with notes refuse players outright.
    expect((await refusal(player.caller.staff.notes({ requestId: sent.request.id }))).code).toBe("FORBIDDEN");
    expect((await refusal(player.caller.staff.timeline({ requestId: sent.request.id }))).code).toBe("FORBIDDEN");
    expect((await refusal(asha.caller.staff.addNote({ requestId: sent.request.id, text: "  " }))).code).toBe(
      "BAD_REQUEST",
    );
  });

  it("admins keep canned replies; staff read them; players and staff cannot change them", async () => {
    const admin = await makeAdmin();
    const asha = await makeStaff(handle.db, "Asha C");
    const player = await makePlayer(handle.db);
    const made = await admin.admin.createCannedReply({ title: "Greeting", body: "Hi! How can I help?" });
    expect((await refusal(admin.admin.createCannedReply({ title: "Greeting", body: "again" }))).code).toBe("CONFLICT");
    await admin.admin.updateCannedReply({ id: made.id, title: "Greeting", body: "Hello! How can I help?" });
    expect((await asha.caller.staff.cannedReplies()).find((c) => c.id === made.id)?.body).toBe(
      "Hello! How can I help?",
    );
    expect((await refusal(asha.caller.admin.createCannedReply({ title: "x", body: "y" }))).code).toBe("FORBIDDEN");
    expect((await refusal(player.caller.staff.cannedReplies())).code).toBe("FORBIDDEN");
    await admin.admin.deleteCannedReply({ id: made.id });
    expect((await refusal(admin.admin.deleteCannedReply({ id: made.id }))).code).toBe("NOT_FOUND");
  });

  it("only admins create accounts and set capacity; a new account must change its temporary password", async () => {
    const admin = await makeAdmin("Admin A");
    const asha = await makeStaff(handle.db, "Asha A");
    const player = await makePlayer(handle.db);
    const input = { role: "staff" as const, email: `new-${randomUUID()}@club.test`, name: "New Staff" };
    for (const caller of [asha.caller, player.caller, callerFor(handle.db, null)]) {
      expect(["FORBIDDEN", "UNAUTHORIZED"]).toContain((await refusal(caller.admin.createAccount(input))).code);
      expect(["FORBIDDEN", "UNAUTHORIZED"]).toContain((await refusal(caller.admin.accounts())).code);
    }
    const created = await admin.admin.createAccount(input);
    expect(created.temporaryPassword).toMatch(/^[a-z2-9]{14}$/);
    expect((await refusal(admin.admin.createAccount(input))).message).toBe(
      `An account with email ${input.email} already exists`,
    );
    expect((await refusal(admin.admin.createAccount({ ...input, email: "not-an-email" }))).code).toBe("BAD_REQUEST");

    const newcomer = callerFor(handle.db, { id: created.userId, name: "New Staff", email: input.email, role: "staff" });
    expect(await newcomer.account.mustChangePassword()).toBe(true);
    expect(
      (await refusal(newcomer.account.changePassword({ currentPassword: "wrong", newPassword: "a-new-password" })))
        .message,
    ).toBe("The current password is wrong");
    await newcomer.account.changePassword({
      currentPassword: created.temporaryPassword as string,
      newPassword: "a-new-password",
    });
    expect(await newcomer.account.mustChangePassword()).toBe(false);

    await admin.admin.setCapacity({ userId: created.userId, maxConcurrentChats: 3 });
    expect((await admin.admin.accounts()).find((a) => a.userId === created.userId)?.maxConcurrentChats).toBe(3);
    expect((await refusal(asha.caller.admin.setCapacity({ userId: created.userId, maxConcurrentChats: 9 }))).code).toBe(
      "FORBIDDEN",
    );
    expect((await refusal(admin.admin.setCapacity({ userId: created.userId, maxConcurrentChats: -1 }))).code).toBe(
      "BAD_REQUEST",
    );
  });

  it("players get a Player ID they already use or the next free one; a taken one is refused", async () => {
    const admin = await makeAdmin("Admin P");
    const email = () => `p-${randomUUID()}@club.test`;
    const chosen = await admin.admin.createAccount({ role: "player", email: email(), name: "Chosen", playerId: 4242 });
    expect(chosen.playerId).toBe(4242);
    expect(
      (await refusal(admin.admin.createAccount({ role: "player", email: email(), name: "Dup", playerId: 4242 })))
        .message,
    ).toBe("Player ID 4242 is taken");
    const next = await admin.admin.createAccount({ role: "player", email: email(), name: "Next" });
    expect(next.playerId).toBe(4243);
  });

  it("transfer, release and take-over: players refused, take-over for admins only", async () => {
    const player = await makePlayer(handle.db);
    const asha = await makeStaff(handle.db, "Asha X");
    const admin = await makeAdmin("Admin X");
    const sent = await player.caller.chat.send({ id: randomUUID(), text: "stuck" });
    const requestId = sent.request.id;
    await asha.caller.staff.claim({ requestId });
    for (const call of [
      player.caller.staff.transfer({ requestId, toUserId: asha.user.id }),
      player.caller.staff.release({ requestId }),
      player.caller.staff.takeOver({ requestId }),
      player.caller.staff.colleagues(),
      asha.caller.staff.takeOver({ requestId }),
    ]) {
      expect((await refusal(call)).code).toBe("FORBIDDEN");
    }
    expect((await admin.staff.takeOver({ requestId })).status).toBe("in_progress");
  });
});
