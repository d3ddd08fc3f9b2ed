import { randomUUID } from "node:crypto";
import { desc, eq, inArray, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeDehydrated } from "@/app/_trpc/dehydrated-data";
import type { DbHandle } from "@/db/client";
import { chatMessages, chatRequests } from "@/db/schema";
import { serializedText, transformer } from "@/protocol/transformer";
import { listQueue } from "@/server/chat/staff";
import { openTestDb, testDbKinds } from "../support/db";
import { makePlayer, makeStaff } from "../support/fixtures";
import { statementsOf } from "../support/statements";

/**
 * Issue 11: the staff queue and a thread page are read on every portal load and reconnect. What
 * the queue shows is checked on both databases; how many statements it costs is counted at the
 * driver (node-postgres), so that part runs on Postgres only.
 */
describe.each(testDbKinds)("the staff queue on %s", (kind) => {
  let handle: DbHandle;
  beforeAll(async () => {
    handle = await openTestDb(kind);
  });
  afterAll(async () => {
    await handle?.close();
  });

  it("lists open chats oldest first, then the 20 most recently resolved, each with its last message and unread count", async () => {
    const staff = await makeStaff(handle.db, "Queue Staff");
    const opened: string[] = [];
    for (let i = 0; i < 24; i++) {
      const player = await makePlayer(handle.db);
      const sent = await player.caller.chat.send({ id: randomUUID(), text: `hello ${i}` });
      await player.caller.chat.send({ id: randomUUID(), text: `still there ${i}?` });
      opened.push(sent.request.id);
    }
    // Spread the times so that each order is decided by the data, not by insertion.
    const base = Date.parse("2026-11-01T10:00:00Z");
    for (const [i, id] of opened.entries()) {
      await handle.db
        .update(chatRequests)
        .set({ createdAt: new Date(base + i * 60_000) })
        .where(eq(chatRequests.id, id));
    }
    // The last three stay open (one answered, so in progress); 21 are resolved, newest last.
    const resolved = opened.slice(0, 21);
    await handle.db
      .update(chatRequests)
      .set({ status: "resolved", resolvedAt: sql`${chatRequests.createdAt} + interval '1 hour'` })
      .where(inArray(chatRequests.id, resolved));
    const answered = opened[22] as string;
    await staff.caller.staff.reply({ requestId: answered, id: randomUUID(), text: "On it" });

    const queue = await listQueue(handle.db);
    expect(queue.map((i) => i.id)).toEqual([...opened.slice(21), ...resolved.slice(1).reverse()]);
    expect(queue.map((i) => i.status)).toEqual(["waiting", "in_progress", "waiting", ...Array(20).fill("resolved")]);
    expect(queue[0]).toMatchObject({
      playerName: expect.any(String),
      initialMessage: "hello 21",
      unreadCount: 2,
      lastMessage: { messageText: "still there 21?", sender: "player", seq: 2 },
    });
    expect(queue[0]?.lastMessage?.timestamp).toBeInstanceOf(Date);
    expect(queue[0]?.createdAt).toEqual(new Date(base + 21 * 60_000));
    expect(queue[1]).toMatchObject({ unreadCount: 2, lastMessage: { messageText: "On it", sender: "staff", seq: 3 } });
    expect(queue[3]?.resolvedAt).toEqual(new Date(base + 20 * 60_000 + 3_600_000));
  });

  it("shows a chat with no messages yet with no last message and nothing unread", async () => {
    const player = await makePlayer(handle.db);
    const [request] = await handle.db
      .insert(chatRequests)
      .values({ playerId: player.player.id, playerName: "Quiet", initialMessage: "(none)", status: "waiting" })
      .returning();
    const item = (await listQueue(handle.db)).find((i) => i.id === request?.id);
    expect(item).toMatchObject({ lastMessage: null, unreadCount: 0, initialMessage: "(none)" });
  });

  it("gives each item exactly its request as a select reads it, its last message's four fields and the unread count", async () => {
    const staff = await makeStaff(handle.db);
    const player = await makePlayer(handle.db);
    const sent = await player.caller.chat.send({ id: randomUUID(), text: "exact?" });
    await staff.caller.staff.reply({ requestId: sent.request.id, id: randomUUID(), text: "Exactly" });
    await player.caller.chat.send({ id: randomUUID(), text: "thanks" });
    // A timestamp a microsecond before the next millisecond: a Date keeps the millisecond it is in.
    await handle.db
      .update(chatRequests)
      .set({ claimedAt: sql`'2026-11-01 10:00:00.999999+00'::timestamptz` })
      .where(eq(chatRequests.id, sent.request.id));
    const [request] = await handle.db.select().from(chatRequests).where(eq(chatRequests.id, sent.request.id));
    const [last] = await handle.db
      .select({
        messageText: chatMessages.messageText,
        sender: chatMessages.sender,
        seq: chatMessages.seq,
        timestamp: chatMessages.timestamp,
      })
      .from(chatMessages)
      .where(eq(chatMessages.requestId, sent.request.id))
      .orderBy(desc(chatMessages.seq))
      .limit(1);
    const item = (await listQueue(handle.db)).find((i) => i.id === sent.request.id);
    // A reply does not mark the player's messages read: both stay unread.
    // The request's last-message columns travel once, as lastMessage.
    const { lastMessageSeq, lastMessageSender, lastMessageText, lastMessageSentAt, ...rest } = request ?? {};
    expect({
      messageText: lastMessageText,
      sender: lastMessageSender,
      seq: lastMessageSeq,
      timestamp: lastMessageSentAt,
    }).toEqual(last);
    expect(item).toStrictEqual({ ...rest, lastMessage: last, unreadCount: 2 });
    // In the select's order too: the wire keeps the keys in the order it finds them.
    expect(Object.keys(item ?? {})).toEqual([...Object.keys(rest), "lastMessage"]);
    expect(Object.keys(item?.lastMessage ?? {})).toEqual(["messageText", "sender", "seq", "timestamp"]);
  });

  it("writes its items' wire text exactly as the transformer would, whatever the text holds", async () => {
    const player = await makePlayer(handle.db);
    const sent = await player.caller.chat.send({ id: randomUUID(), text: "first" });
    const awkward = `quote " back \\ slash \n\t\r\b\f \u0001 \u001f \u007f \u2028 é 😀 </script> \\u0000`;
    await handle.db
      .update(chatMessages)
      .set({ messageText: awkward })
      .where(eq(chatMessages.requestId, sent.request.id));
    await handle.db
      .update(chatRequests)
      .set({
        playerName: awkward,
        initialMessage: awkward,
        claimedAt: sql`'2026-11-01 10:00:00.999999+00'::timestamptz`,
      })
      .where(eq(chatRequests.id, sent.request.id));
    const queue = await listQueue(handle.db);
    expect(queue.find((i) => i.id === sent.request.id)?.lastMessage?.messageText).toBe(awkward);
    // transformer.serialize walks the items; serializedText is the text Postgres wrote for them.
    expect(serializedText(queue)).toBe(JSON.stringify(transformer.serialize(queue)));
    // So does the staff page's dehydrated data: the same string as the walk of an unfrozen copy.
    expect(encodeDehydrated(queue)).toBe(encodeDehydrated(structuredClone(queue)));
  });

  it("is never written with stale text: its items refuse changes, and a Date changed in place is written as it now is", async () => {
    const staff = await makeStaff(handle.db);
    const player = await makePlayer(handle.db);
    const sent = await player.caller.chat.send({ id: randomUUID(), text: "change me?" });
    await staff.caller.staff.reply({ requestId: sent.request.id, id: randomUUID(), text: "No" });
    const queue = await listQueue(handle.db);
    const item = queue.find((i) => i.id === sent.request.id);
    const last = item?.lastMessage;
    if (!item || !last) throw new Error("the chat is not in the queue");
    // The text travels with the items (tRPC's answer, the staff page's dehydrated data): a change
    // after listQueue would be written as the old text. Each kind of change is refused instead, and
    // listQueue's type says so: each is a type error too.
    const changes = [
      () => {
        // @ts-expect-error the items are read-only
        item.playerName = "changed";
      },
      () => {
        // @ts-expect-error so is what they hold
        last.messageText = "changed";
      },
      () => {
        (item as Record<string, unknown>).extra = 1;
      },
      () => {
        delete (item as Record<string, unknown>).unreadCount;
      },
      // @ts-expect-error and the list
      () => queue.pop(),
      // @ts-expect-error
      () => queue.sort(() => -1),
    ];
    for (const change of changes) {
      try {
        change();
      } catch {}
    }
    expect(serializedText(queue)).toBe(JSON.stringify(transformer.serialize(queue)));
    expect(item.playerName).toBe(sent.request.playerName);
    expect(last.messageText).toBe("No");
    for (const change of changes) expect(change).toThrow(TypeError);
    // A Date keeps its time in an internal slot that no freeze protects: its change is seen.
    (item.claimedAt as Date).setTime(Date.UTC(2020, 0, 1));
    (last.timestamp as Date).setTime(Date.UTC(2020, 0, 2));
    expect(serializedText(queue)).toBe(JSON.stringify(transformer.serialize(queue)));
    expect(encodeDehydrated(queue)).toBe(encodeDehydrated(structuredClone(queue)));
  });
});

const onPostgres = !!process.env.TEST_DATABASE_URL;

describe.runIf(onPostgres)("the staff queue in one round trip (Postgres: counted at the driver)", () => {
  let handle: DbHandle;
  beforeAll(async () => {
    handle = await openTestDb("postgres");
  });
  afterAll(async () => {
    await handle?.close();
  });

  it("reads the open chats, the recently resolved and each one's last message and unread count in one statement", async () => {
    const player = await makePlayer(handle.db);
    await player.caller.chat.send({ id: randomUUID(), text: "hello" });
    const statements = await statementsOf(() => listQueue(handle.db));
    expect(statements).toHaveLength(1);
  });
});
