import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectPostgres, type DbHandle, rowsOf } from "@/db/client";
import { migrate } from "@/db/migrate";
import { preparePhoto } from "@/server/chat/photos";
import { sendPlayerMessage } from "@/server/chat/send";
import { messagePlayer, replyAsStaff } from "@/server/chat/staff";
import { freshPostgresDatabase, openTestDb, testDbKinds } from "../support/db";
import { makePlayer, makeStaff } from "../support/fixtures";
import { smallPng } from "../support/photos";

/**
 * Issue 11: the send's and the reply's one statement each is prepared (parsed once per connection,
 * not on every call: Postgres spent 0.12 ms parsing and 0.04 ms more binding it each time). The
 * same calls must answer the same on PGlite, where drizzle runs the statement without a name, and
 * on Postgres, where it is a named statement; on both, the transaction paths (a photo, a reply
 * that takes a waiting chat) run it on the transaction's own connection.
 */
describe.each(testDbKinds)("the send and the reply as prepared statements on %s", (kind) => {
  let handle: DbHandle;
  beforeAll(async () => {
    handle = await openTestDb(kind);
  });
  afterAll(async () => {
    await handle?.close();
  });

  it("answers every outcome of the send and the reply as before", async () => {
    const db = handle.db;
    const { player, user } = await makePlayer(db, "Prepared");
    const other = await makePlayer(db, "Other");
    const asha = await makeStaff(db, "Asha");
    const ben = await makeStaff(db, "Ben");
    const send = (id: string, text: string, extra: Partial<Parameters<typeof sendPlayerMessage>[1]> = {}) =>
      sendPlayerMessage(db, { id, text, player: { userId: user.id }, ...extra });

    const firstId = randomUUID();
    const first = await send(firstId, "first");
    expect(first).toMatchObject({ openedRequest: true, duplicate: false, message: { id: firstId, seq: 1 } });
    expect(first.message.timestamp).toBeInstanceOf(Date);
    expect(first.request).toMatchObject({ playerId: player.id, status: "waiting", initialMessage: "first" });
    const second = await send(randomUUID(), "second");
    expect(second).toMatchObject({ openedRequest: false, duplicate: false, message: { seq: 2 } });
    expect(await send(firstId, "first")).toMatchObject({ duplicate: true, message: { id: firstId, seq: 1 } });
    await expect(
      sendPlayerMessage(db, { id: firstId, text: "mine", player: { userId: other.user.id } }),
    ).rejects.toMatchObject({ code: "CONFLICT" });
    await expect(send(randomUUID(), "no player", { player: { userId: asha.user.id } })).rejects.toMatchObject({
      code: "FORBIDDEN",
    });
    const limit = { burst: 1, perSecond: 0.001 };
    await send(randomUUID(), "takes the one", { sendLimit: limit });
    await expect(send(randomUUID(), "over", { sendLimit: limit })).rejects.toMatchObject({
      code: "TOO_MANY_REQUESTS",
    });
    // A photo: the statement in a transaction, the bytes beside the row.
    const photo = await send(randomUUID(), "", { photo: await preparePhoto(await smallPng()) });
    expect(photo.message).toMatchObject({ seq: 4, photo: { type: "image/png" } });

    // A reply to the waiting chat takes it (a transaction); then alone; a retry; someone else's.
    const requestId = first.request.id;
    const reply = (staff: typeof asha, id: string) =>
      replyAsStaff(db, { requestId, id, text: "hello", staff: { userId: staff.user.id } });
    const replyId = randomUUID();
    const taken = await reply(asha, replyId);
    expect(taken).toMatchObject({ duplicate: false, message: { seq: 5, sender: "staff", senderName: "Asha" } });
    expect(taken.request).toMatchObject({ status: "in_progress", assignedStaffId: asha.user.id });
    expect(taken.request.firstResponseAt).toBeInstanceOf(Date);
    expect(await reply(asha, randomUUID())).toMatchObject({ duplicate: false, message: { seq: 6 } });
    expect(await reply(asha, replyId)).toMatchObject({ duplicate: true, message: { id: replyId, seq: 5 } });
    await expect(reply(ben, randomUUID())).rejects.toMatchObject({ code: "CONFLICT" });
    await expect(
      replyAsStaff(db, { requestId, id: randomUUID(), text: "x", staff: { userId: user.id } }),
    ).rejects.toMatchObject({ code: "FORBIDDEN" });
    const byId = await messagePlayer(db, { playerId: player.id, id: randomUUID(), text: "by id", staff: asha.staff });
    expect(byId).toMatchObject({ duplicate: false, message: { seq: 7 }, request: { id: requestId } });
  });
});

// Postgres only: PGlite has no named statements (drizzle runs the same statement without a name).
describe.runIf(!!process.env.TEST_DATABASE_URL)("the send and the reply on Postgres", () => {
  let handle: DbHandle;
  let drop = async () => {};
  beforeAll(async () => {
    // One connection: every statement below runs on it, so what it has prepared is what they used.
    const fresh = await freshPostgresDatabase();
    drop = fresh.drop;
    handle = connectPostgres(fresh.url, 1);
    await migrate(handle);
  });
  afterAll(async () => {
    await handle?.close();
    await drop();
  });

  it("runs them as named statements, prepared once on the connection", async () => {
    const db = handle.db;
    const { user } = await makePlayer(db, "Named");
    const asha = await makeStaff(db, "Asha");
    const names = async () => {
      const [row] = await rowsOf<{ names: string[] | null }>(
        db,
        sql`select array_agg(name order by name) as names from pg_prepared_statements
            where name in ('chat_send_player_message', 'chat_staff_reply')`,
      );
      return row?.names ?? [];
    };
    expect(await names()).toEqual([]);
    const sent = await sendPlayerMessage(db, { id: randomUUID(), text: "first", player: { userId: user.id } });
    // The first reply takes the waiting chat in a transaction; the second runs alone.
    for (const text of ["taken", "alone"]) {
      await replyAsStaff(db, { requestId: sent.request.id, id: randomUUID(), text, staff: { userId: asha.user.id } });
    }
    expect(await names()).toEqual(["chat_send_player_message", "chat_staff_reply"]);
  });
});
