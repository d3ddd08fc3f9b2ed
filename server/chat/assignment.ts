import { type AnyColumn, asc, desc, eq, sql } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { type ChatEventType, type ChatRequest, chatEvents, chatRequests, staff } from "@/db/schema";
import type { StaffActor } from "./actors";
import { ChatError } from "./errors";
import type { RequestChanged } from "./lifecycle";
import { lockChat, nextVersion, requestFromJson } from "./messages";
import { appendSystemLine } from "./system-lines";

/**
 * Who holds a chat: claim, auto-assignment, transfer, release and an admin's take-over.
 *
 * Capacity rule, decided by the database, in one place: the SQL functions of
 * db/migrations/0015. A chat goes to a staff member only in one conditional UPDATE
 * (`chat_assign_if_room`) whose WHERE says "still in the expected state AND the staff member is
 * accepting AND holds fewer than max_concurrent_chats" (`chat_staff_has_room`). Before it, the
 * function locks the staff row, so two assignments to the same person — from two claims, two web
 * instances' auto-assigners, a transfer, a first reply (`chat_staff_reply` takes a waiting chat
 * with the same function) — run one after the other, and the second one's fresh READ COMMITTED
 * snapshot counts the first. Lock order everywhere: player → request → staff (lockChat, then the
 * staff lock), so nothing deadlocks.
 * One exception to "accepting", none to capacity: a chat a staff member starts (`holdStartedChat`)
 * or reopens (`requireRoomToReopen`) themselves.
 */

type Executor = Pick<Db, "insert">;
export async function recordEvent(
  tx: Executor,
  requestId: string,
  type: ChatEventType,
  actor: StaffActor | null,
  target?: StaffActor | null,
) {
  await tx.insert(chatEvents).values({
    requestId,
    type,
    actorUserId: actor?.userId ?? null,
    actorName: actor?.displayName ?? null,
    targetUserId: target?.userId ?? null,
    targetName: target?.displayName ?? null,
  });
}

async function lockStaff(tx: Tx, userId: string) {
  const [row] = await tx.select().from(staff).where(eq(staff.userId, userId)).for("update");
  if (!row) throw new ChatError("NOT_FOUND", "No such staff member");
  return row;
}

/** Chats a staff member holds now; `userId` a value or, correlated, the outer query's staff column. */
const openCount = (userId: string | AnyColumn) =>
  sql`(select count(*) from ${chatRequests} o where o.assigned_staff_id = ${userId} and o.status = 'in_progress')`;

/**
 * The one conditional statement (db/migrations/0015 `chat_assign_if_room`, which locks `to`'s staff
 * row first): set the holder only if the request is as expected and `to` has room. `offDutyToo`
 * drops only the "accepting" half, for a chat the staff member starts themselves (see
 * `holdStartedChat`); capacity always applies.
 */
async function assignIfRoom(
  tx: Tx,
  input: { requestId: string; to: string; expect: "waiting" | { holder: string }; offDutyToo?: boolean },
): Promise<ChatRequest | null> {
  const holder = input.expect === "waiting" ? null : input.expect.holder;
  const [row] = await tx.select({ request: sql<unknown>`to_jsonb(a)` }).from(
    sql`chat_assign_if_room(${input.requestId}::uuid, ${input.to}::text, ${holder}::text,
        ${input.offDutyToo ?? false}::boolean) a`,
  );
  return row ? requestFromJson(row.request) : null;
}

/** Why an assignment to `to` was refused, in the words the person sees. */
async function refusal(
  tx: Tx,
  request: ChatRequest,
  to: string,
  self: boolean,
  opts: { offDutyToo?: boolean } = {},
): Promise<ChatError> {
  if (request.status === "resolved") return new ChatError("CONFLICT", "This chat is already resolved");
  if (request.status === "in_progress" && request.assignedStaffId !== null && self) {
    const [holder] = await tx
      .select({ name: staff.displayName })
      .from(staff)
      .where(eq(staff.userId, request.assignedStaffId));
    return new ChatError("CONFLICT", `Already taken by ${holder?.name ?? "another staff member"}`);
  }
  return limitRefusal(tx, to, self, opts);
}

/**
 * The refusal for a staff member without room: off duty, or at their limit. Also said for a reply
 * that found no room (`chat_staff_reply`'s 'no_room'), so the words live here only.
 */
export async function limitRefusal(
  tx: Pick<Db, "select">,
  to: string,
  self: boolean,
  opts: { offDutyToo?: boolean } = {},
): Promise<ChatError> {
  const [member] = await tx.select().from(staff).where(eq(staff.userId, to));
  if (!member) return new ChatError("NOT_FOUND", "No such staff member");
  const who = self ? "You are" : `${member.displayName} is`;
  if (!member.acceptingChats && !opts.offDutyToo) {
    return new ChatError("CONFLICT", `${who} not accepting chats`);
  }
  return new ChatError(
    "CONFLICT",
    self
      ? `You are at your limit of ${member.maxConcurrentChats}`
      : `${member.displayName} is at their limit of ${member.maxConcurrentChats}`,
  );
}

export async function claimRequest(db: Db, input: { requestId: string; staff: StaffActor }) {
  return db.transaction(async (tx) => {
    const current = await lockChat(tx, input.requestId);
    // A retry of a claim whose answer was lost.
    if (current.status === "in_progress" && current.assignedStaffId === input.staff.userId) return current;
    const claimed =
      current.status === "waiting"
        ? await assignIfRoom(tx, { requestId: current.id, to: input.staff.userId, expect: "waiting" })
        : null;
    if (!claimed) throw await refusal(tx, current, input.staff.userId, true);
    await recordEvent(tx, claimed.id, "claimed", input.staff);
    return withLine(tx, claimed, input.staff);
  });
}

/**
 * A chat a staff member starts (a message to a player with no open chat, `messagePlayer`) counts
 * toward their capacity like any chat they hold: the caller inserts it as waiting inside its
 * transaction, and this takes it by the same statement as Take, so at the limit it is refused with
 * the same words and the rollback leaves nothing stored. Being off duty does not stop it:
 * "accepting" says whether the queue may hand you chats; starting one is your own act, and the
 * issue's rule is only that capacity is never exceeded.
 */
export async function holdStartedChat(tx: Tx, request: ChatRequest, by: StaffActor): Promise<ChatRequest> {
  const held = await assignIfRoom(tx, { requestId: request.id, to: by.userId, expect: "waiting", offDutyToo: true });
  if (!held) throw await refusal(tx, request, by.userId, true, { offDutyToo: true });
  await recordEvent(tx, request.id, "claimed", by);
  return held;
}

/**
 * Reopen makes the reopener hold the chat without a Take, so it is checked by the same rule: the
 * caller holds the chat's locks, this locks the staff row (player → request → staff), and the
 * count sees every assignment committed before it. Off duty does not stop it, as for
 * `holdStartedChat`: reopening is the staff member's own act.
 */
export async function requireRoomToReopen(tx: Tx, by: StaffActor) {
  await lockStaff(tx, by.userId);
  const [row] = await tx
    .select({ ok: sql<boolean>`chat_staff_has_room(${staff.userId}, true)` })
    .from(staff)
    .where(eq(staff.userId, by.userId));
  if (!row?.ok) throw await limitRefusal(tx, by.userId, true, { offDutyToo: true });
}

/** Hands a chat the caller holds to a colleague who is accepting and has room. */
export async function transferRequest(db: Db, input: { requestId: string; staff: StaffActor; toUserId: string }) {
  if (input.toUserId === input.staff.userId) throw new ChatError("BAD_REQUEST", "Choose a colleague, not yourself");
  return db.transaction(async (tx) => {
    const current = await lockChat(tx, input.requestId);
    if (current.status === "in_progress" && current.assignedStaffId === input.toUserId) {
      if (await lastChangeWas(tx, current.id, "transferred", input.staff)) return current;
    }
    if (current.status !== "in_progress" || current.assignedStaffId !== input.staff.userId) {
      throw new ChatError("CONFLICT", "Only the staff member holding this chat can transfer it");
    }
    const moved = await assignIfRoom(tx, {
      requestId: current.id,
      to: input.toUserId,
      expect: { holder: input.staff.userId },
    });
    if (!moved) throw await refusal(tx, current, input.toUserId, false);
    const [target] = await tx.select().from(staff).where(eq(staff.userId, input.toUserId));
    await recordEvent(tx, moved.id, "transferred", input.staff, target ?? null);
    return target ? withLine(tx, moved, target) : moved;
  });
}

/** Puts a chat the caller holds back in the queue. */
export async function releaseRequest(db: Db, input: { requestId: string; staff: StaffActor }): Promise<RequestChanged> {
  return db.transaction(async (tx) => {
    const current = await lockChat(tx, input.requestId);
    if (current.status === "waiting" && (await lastChangeWas(tx, current.id, "released", input.staff))) return current;
    if (current.status !== "in_progress" || current.assignedStaffId !== input.staff.userId) {
      throw new ChatError("CONFLICT", "Only the staff member holding this chat can release it");
    }
    const [released] = await tx
      .update(chatRequests)
      .set({ status: "waiting", assignedStaffId: null, version: nextVersion })
      .where(eq(chatRequests.id, current.id))
      .returning();
    if (!released) throw new Error(`request ${current.id} vanished`);
    await recordEvent(tx, released.id, "released", input.staff);
    const line = await appendSystemLine(tx, released, "released", input.staff);
    return { ...line.request, systemLine: line.message };
  });
}

/**
 * An admin takes any open chat, whoever holds it (they went home). Not bound by the admin's own
 * capacity: this is the override for a stuck chat.
 */
export async function takeOverRequest(db: Db, input: { requestId: string; staff: StaffActor }) {
  return db.transaction(async (tx) => {
    const current = await lockChat(tx, input.requestId);
    if (current.status === "in_progress" && current.assignedStaffId === input.staff.userId) return current;
    if (current.status === "resolved") throw new ChatError("CONFLICT", "This chat is already resolved");
    await lockStaff(tx, input.staff.userId);
    const [previous] = current.assignedStaffId
      ? await tx.select().from(staff).where(eq(staff.userId, current.assignedStaffId))
      : [];
    const [taken] = await tx
      .update(chatRequests)
      .set({ status: "in_progress", assignedStaffId: input.staff.userId, claimedAt: new Date(), version: nextVersion })
      .where(eq(chatRequests.id, current.id))
      .returning();
    if (!taken) throw new Error(`request ${current.id} vanished`);
    await recordEvent(tx, taken.id, "taken_over", input.staff, previous ?? null);
    return withLine(tx, taken, input.staff);
  });
}

/**
 * Auto-assignment: the longest-waiting request goes to the accepting staff member with the fewest
 * open chats, until nothing waits or nobody has room. Run after the events that can make an
 * assignment possible (a request opens, a chat is resolved or released, someone starts accepting
 * or gains capacity). Any number of these may run at once, in any number of processes: each
 * assignment is `assignIfRoom`, so the database keeps everyone within capacity; a loser retries.
 */
export async function autoAssign(db: Db, opts: { max?: number } = {}): Promise<RequestChanged[]> {
  const assigned: RequestChanged[] = [];
  const max = opts.max ?? 50;
  for (let attempt = 0; attempt < max * 3 && assigned.length < max; attempt++) {
    const [oldest] = await db
      .select({ id: chatRequests.id })
      .from(chatRequests)
      .where(eq(chatRequests.status, "waiting"))
      .orderBy(asc(chatRequests.createdAt))
      .limit(1);
    if (!oldest) break;
    const outcome = await db.transaction(async (tx) => {
      const request = await lockChat(tx, oldest.id);
      if (request.status !== "waiting") return "raced" as const; // someone took it; look again
      const [candidate] = await tx
        .select({ userId: staff.userId, displayName: staff.displayName })
        .from(staff)
        .where(sql`chat_staff_has_room(${staff.userId}, false)`)
        .orderBy(sql`${openCount(staff.userId)}`, asc(staff.userId))
        .limit(1);
      if (!candidate) return "full" as const;
      const row = await assignIfRoom(tx, { requestId: request.id, to: candidate.userId, expect: "waiting" });
      if (!row) return "raced" as const; // the candidate filled up meanwhile
      await recordEvent(tx, row.id, "auto_assigned", null, candidate);
      return withLine(tx, row, candidate);
    });
    if (outcome === "full") break;
    if (outcome !== "raced") assigned.push(outcome);
  }
  return assigned;
}

/** The player's thread is told who is with them now (main's system lines), in the same transaction. */
async function withLine(tx: Tx, request: ChatRequest, holder: StaffActor): Promise<RequestChanged> {
  const line = await appendSystemLine(tx, request, "claimed", holder);
  return { ...line.request, systemLine: line.message };
}

/** True when the request's latest audit event is `type` by this staff member: a repeat of their own action. */
export async function lastChangeWas(tx: Tx, requestId: string, type: ChatEventType, actor: StaffActor) {
  const [last] = await tx
    .select({ type: chatEvents.type, actor: chatEvents.actorUserId })
    .from(chatEvents)
    .where(eq(chatEvents.requestId, requestId))
    .orderBy(desc(chatEvents.id))
    .limit(1);
  return last?.type === type && last.actor === actor.userId;
}

/** Everyone on the floor with how many chats they hold: the Transfer menu and the admin page. */
export async function listStaffLoad(db: Db) {
  return db
    .select({
      userId: staff.userId,
      displayName: staff.displayName,
      acceptingChats: staff.acceptingChats,
      maxConcurrentChats: staff.maxConcurrentChats,
      openChats: sql<number>`${openCount(staff.userId)}::int`,
    })
    .from(staff)
    .orderBy(asc(staff.displayName));
}
