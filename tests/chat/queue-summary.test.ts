import { randomUUID } from "node:crypto";
import { TRPCError } from "@trpc/server";
import { desc, eq, sql } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Db, DbHandle } from "@/db/client";
import { chatMessages, chatRequests, players } from "@/db/schema";
import { listQueue } from "@/server/chat/staff";
import { openTestDb, testDbKinds } from "../support/db";
import { makePlayer, makeStaff } from "../support/fixtures";

/**
 * Issue 11: the queue reads each chat's last message and unread count from a summary kept on the
 * request row (db/migrations/0012). Whatever happens to a chat — sends from both sides, receipts,
 * claims, resolves, reopens, transfers — the summary must equal what the lookups over
 * chat_messages compute. fast-check drives random sequences; a failure prints its seed and the
 * shrunk sequence.
 */
// Sends and replies weigh more: most other steps need a chat with messages to change anything.
const step = fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant("send" as const), player: fc.nat(2) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant("reply" as const), player: fc.nat(2), staff: fc.nat(1) }) },
  fc.record({
    kind: fc.constant("staffMarks" as const),
    player: fc.nat(2),
    status: fc.constantFrom("received" as const, "read" as const),
    back: fc.nat(3),
  }),
  fc.record({ kind: fc.constant("playerReads" as const), player: fc.nat(2), back: fc.nat(3) }),
  fc.record({ kind: fc.constant("claim" as const), player: fc.nat(2), staff: fc.nat(1) }),
  fc.record({ kind: fc.constant("resolve" as const), player: fc.nat(2), staff: fc.nat(1) }),
  fc.record({ kind: fc.constant("reopen" as const), player: fc.nat(2), staff: fc.nat(1) }),
  fc.record({ kind: fc.constant("transfer" as const), player: fc.nat(2), staff: fc.nat(1) }),
);
type Step = typeof step extends fc.Arbitrary<infer T> ? T : never;

// 30 sequences of up to 40 changes, each a few round trips: at load 25-27 on 2 cores (or with
// every Postgres reply 5 ms late) the property ran past the suite's 20 s, a timeout that says
// nothing about the summary. The limit stays a guard against a hang.
const PROPERTY_TIMEOUT_MS = 180_000;

describe.each(testDbKinds)("the queue summary on %s", (kind) => {
  let handle: DbHandle;
  beforeAll(async () => {
    handle = await openTestDb(kind);
  });
  afterAll(async () => {
    await handle?.close();
  });

  it("equals the last message and unread count computed from the messages after any sequence of changes", {
    timeout: PROPERTY_TIMEOUT_MS,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 40 }), async (steps) => {
        const db = handle.db;
        const people = await Promise.all([makePlayer(db), makePlayer(db), makePlayer(db)]);
        const staff = await Promise.all([makeStaff(db), makeStaff(db)]);
        for (const s of steps) await expectRefusalOrSuccess(() => run(db, s, people, staff));
        for (const p of people) await expectSummaryTrue(db, p.player.id);
      }),
      { numRuns: 30 },
    );
  });

  it("counts every message when sends and receipts on one chat run at once", async () => {
    const p = await makePlayer(handle.db);
    const s = await makeStaff(handle.db);
    await p.caller.chat.send({ id: randomUUID(), text: "first" });
    // A receipt that recounted with its own snapshot would lose a send committed while it waited.
    await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        i % 2 === 0
          ? p.caller.chat.send({ id: randomUUID(), text: `burst ${i}` })
          : s.caller.staff.markMessages({ playerId: p.player.id, status: "read", upToSeq: 1_000 }),
      ),
    );
    await expectSummaryTrue(handle.db, p.player.id);
  });

  it("is kept by messages written straight to the table (bulk seeds, tools)", async () => {
    const p = await makePlayer(handle.db);
    const sent = await p.caller.chat.send({ id: randomUUID(), text: "first" });
    // Two rows in one statement, the later one read already: a statement-level change.
    await handle.db.insert(chatMessages).values([
      {
        id: randomUUID(),
        requestId: sent.request.id,
        playerId: p.player.id,
        seq: 2,
        sender: "player",
        senderName: "P",
        messageText: "two",
      },
      {
        id: randomUUID(),
        requestId: sent.request.id,
        playerId: p.player.id,
        seq: 3,
        sender: "player",
        senderName: "P",
        messageText: "three",
        status: "read",
      },
    ]);
    await handle.db.update(players).set({ lastSeq: 3 }).where(eq(players.id, p.player.id));
    await expectSummaryTrue(handle.db, p.player.id);
    const item = (await listQueue(handle.db)).find((i) => i.id === sent.request.id);
    expect(item).toMatchObject({ unreadCount: 2, lastMessage: { messageText: "three", seq: 3 } });
    await handle.db.delete(chatMessages).where(eq(chatMessages.seq, 3));
    await expectSummaryTrue(handle.db, p.player.id);
  });
});

type Person = Awaited<ReturnType<typeof makePlayer>>;
type Member = Awaited<ReturnType<typeof makeStaff>>;

async function run(db: Db, s: Step, people: Person[], staff: Member[]) {
  const p = people[s.player] as Person;
  const member = "staff" in s ? (staff[s.staff] as Member) : undefined;
  const [latest] = await db
    .select({ id: chatRequests.id })
    .from(chatRequests)
    .where(eq(chatRequests.playerId, p.player.id))
    .orderBy(desc(chatRequests.createdAt));
  const requestId = latest?.id ?? randomUUID();
  const [row] = await db.select({ lastSeq: players.lastSeq }).from(players).where(eq(players.id, p.player.id));
  const upToSeq = Math.max(1, Number(row?.lastSeq ?? 0) - ("back" in s ? s.back : 0));
  switch (s.kind) {
    case "send":
      return p.caller.chat.send({ id: randomUUID(), text: `from player ${randomUUID()}` });
    case "reply":
      return member?.caller.staff.reply({ requestId, id: randomUUID(), text: `from staff ${randomUUID()}` });
    case "staffMarks":
      return staff[0]?.caller.staff.markMessages({ playerId: p.player.id, status: s.status, upToSeq });
    case "playerReads":
      return p.caller.chat.markRead({ upToSeq });
    case "claim":
      return member?.caller.staff.claim({ requestId });
    case "resolve":
      return member?.caller.staff.resolve({ requestId });
    case "reopen":
      return member?.caller.staff.reopen({ requestId });
    case "transfer": {
      const other = staff[1 - s.staff] as Member;
      return member?.caller.staff.transfer({ requestId, toUserId: other.user.id });
    }
  }
}

/** Refusals (a chat someone else holds, one already resolved, …) are part of the sequence; faults are not. */
async function expectRefusalOrSuccess(act: () => Promise<unknown>) {
  try {
    await act();
  } catch (error) {
    if (!(error instanceof TRPCError) || error.code === "INTERNAL_SERVER_ERROR") throw error;
  }
}

/** Every request of the player: the stored summary against the lookups the queue used to run. */
async function expectSummaryTrue(db: Db, playerId: number) {
  const stored = await db.execute<Record<string, unknown>>(sql`
    select r.id, r.unread_count, r.last_message_seq, r.last_message_sender, r.last_message_text,
           r.last_message_sent_at
    from chat_requests r where r.player_id = ${playerId} order by r.id`);
  const computed = await db.execute<Record<string, unknown>>(sql`
    select r.id,
           (select count(*)::int from chat_messages m
             where m.request_id = r.id and m.sender = 'player' and m.status <> 'read') as unread_count,
           l.seq as last_message_seq, l.sender as last_message_sender, l.message_text as last_message_text,
           l.timestamp as last_message_sent_at
    from chat_requests r
    left join lateral (select * from chat_messages m where m.request_id = r.id order by m.seq desc limit 1) l on true
    where r.player_id = ${playerId} order by r.id`);
  expect(normalise(stored)).toEqual(normalise(computed));
  // And the queue shows exactly that for the chats it lists.
  const queue = new Map((await listQueue(db)).map((i) => [i.id, i]));
  for (const row of normalise(computed)) {
    const item = queue.get(String(row.id));
    if (!item) continue;
    expect(item.unreadCount).toBe(row.unread_count);
    expect(item.lastMessage && { ...item.lastMessage, timestamp: item.lastMessage.timestamp.toISOString() }).toEqual(
      row.last_message_seq === null
        ? null
        : {
            seq: row.last_message_seq,
            sender: row.last_message_sender,
            messageText: row.last_message_text,
            timestamp: row.last_message_sent_at,
          },
    );
  }
}

/** node-postgres and PGlite return bigint and timestamps differently; compare values. */
function normalise(result: unknown) {
  const rows = (Array.isArray(result) ? result : (result as { rows: Record<string, unknown>[] }).rows) as Record<
    string,
    unknown
  >[];
  return rows.map((r) => ({
    id: r.id,
    unread_count: Number(r.unread_count),
    last_message_seq: r.last_message_seq === null ? null : Number(r.last_message_seq),
    last_message_sender: r.last_message_sender,
    last_message_text: r.last_message_text,
    last_message_sent_at:
      r.last_message_sent_at === null ? null : new Date(r.last_message_sent_at as string | Date).toISOString(),
  }));
}
