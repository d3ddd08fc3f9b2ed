import { and, count, eq, lt } from "drizzle-orm";
import type { Db } from "@/db/client";
import { type ChatRequest, chatRequests, staff } from "@/db/schema";
import { STAFF_PRESENCE } from "@/protocol/channels";
import type { ReplyInput, SendMessageInput } from "@/protocol/inputs";
import { setCapacity } from "../admin/accounts";
import { staffPublicId } from "../notify/push-identity";
import type { PlayerActor, StaffActor } from "./actors";
import {
  escalationEvents,
  noteAddedEvents,
  playerMessageEvents,
  requestUpdatedEvents,
  staffReplyEvents,
  statusEvents,
  systemLineEvents,
} from "./announce";
import { autoAssign, claimRequest, releaseRequest, takeOverRequest, transferRequest } from "./assignment";
import { escalateLongWaits } from "./escalation";
import { type RealtimeGateway, writtenOut } from "./gateway";
import { type RequestChanged, reopenRequest, resolveRequest } from "./lifecycle";
import { findExisting } from "./messages";
import { expectedWaitSeconds } from "./metrics";
import { insertNote } from "./notes";
import { type PreparedPhoto, preparePhoto } from "./photos";
import { setAcceptingChats, staffAcceptingChats } from "./push-targets";
import { lastResolvedOf } from "./ratings";
import { advanceReceipts } from "./receipts";
import { openRequestOf, type SendResult, sendPlayerMessage } from "./send";
import { checkSendAllowance, type SendLimit } from "./send-limit";
import { getRequest, messagePlayer, replyAsStaff } from "./staff";

/** Told after a commit; must return at once and never throw (server/notify queues the work). */
export type ChatNotifications = {
  playerMessage(result: SendResult): void;
  escalated(request: ChatRequest): void;
};

/**
 * The use cases both transports (tRPC and the club's REST routes) call: change the database,
 * then tell live clients. Telling is queued, not awaited (gateway.ts `publish`): a use case that
 * returns has stored its change; delivery goes on in the background, each player's in call order. `socketId` is the caller's own realtime connection, left out of the
 * fan-out because it already has the result.
 */
export type ChatDeps = {
  db: Db;
  realtime: RealtimeGateway;
  notifications?: ChatNotifications;
  socketId?: string;
  /** AUTO_ASSIGN_CHATS: hand waiting chats to staff with room after each change that can allow it. */
  autoAssign?: boolean;
  /** Per-player send limit (PLAYER_SEND_*); absent → none. */
  sendLimit?: SendLimit;
};

/**
 * Auto-assignment after a change that may make one possible. Event-driven, not polled; the
 * change that triggered it has already succeeded, so a failure here is logged, never thrown.
 */
export async function assignWaiting(deps: ChatDeps) {
  if (!deps.autoAssign) return [];
  try {
    const assigned = await autoAssign(deps.db);
    const requests: ChatRequest[] = [];
    for (const { systemLine, ...request } of assigned) {
      deps.realtime.publish(requestUpdatedEvents(request));
      if (systemLine) deps.realtime.publish(systemLineEvents({ message: systemLine, request }));
      requests.push(request);
    }
    return requests;
  } catch (err) {
    console.error("[chat] auto-assignment failed:", err);
    return [];
  }
}

/** `player` needs only the user id: the send finds the player record in its own statement. */
export async function sendAsPlayer(
  deps: ChatDeps,
  input: SendMessageInput & { player: Pick<PlayerActor, "userId">; photo?: PreparedPhoto },
) {
  const result = await sendPlayerMessage(deps.db, { ...input, sendLimit: deps.sendLimit });
  // Published on retries too: if the first attempt's publish was lost, this heals it (clients dedupe).
  deps.realtime.publish(playerMessageEvents(result), { socketId: deps.socketId });
  if (!result.duplicate) deps.notifications?.playerMessage(result);
  if (result.openedRequest) await assignWaiting(deps);
  await writtenOut(); // the events on their way before the answer is built (gateway.ts)
  return result;
}

/** `staff` needs only the user id: the reply finds the staff record in its own statement. */
export async function replyAsStaffMember(
  deps: ChatDeps,
  input: ReplyInput & { staff: Pick<StaffActor, "userId">; photo?: PreparedPhoto },
) {
  const result = await replyAsStaff(deps.db, input);
  deps.realtime.publish(staffReplyEvents(result), { socketId: deps.socketId });
  await writtenOut();
  return result;
}

/**
 * A photo from a player: a message like any other (same send limit, same seq, same events) whose
 * bytes sharp re-encoded first. A retry of a stored id answers with the stored row without
 * decoding anything again; a player over the send limit is refused before the decoding.
 */
export async function sendPhotoAsPlayer(
  deps: ChatDeps,
  input: SendMessageInput & { player: PlayerActor; bytes: Buffer },
) {
  const { bytes, ...message } = input;
  if (await findExisting(deps.db, input.id, { playerId: input.player.id, sender: "player" })) {
    return sendAsPlayer(deps, message);
  }
  await checkSendAllowance(deps.db, input.player.id, deps.sendLimit);
  return sendAsPlayer(deps, { ...message, photo: await preparePhoto(bytes) });
}

/** A photo from staff into a chat, as `replyAsStaffMember`; a retry of a stored id is not decoded again. */
export async function replyWithPhotoAsStaff(deps: ChatDeps, input: ReplyInput & { staff: StaffActor; bytes: Buffer }) {
  const { bytes, ...reply } = input;
  const { playerId } = await getRequest(deps.db, input.requestId);
  const stored = await findExisting(deps.db, input.id, { playerId, sender: "staff" });
  return replyAsStaffMember(deps, stored ? reply : { ...reply, photo: await preparePhoto(bytes) });
}

/** A staff message by Player ID: into the open chat, or a new one the staff member holds; the statement finds the staff record, as `replyAsStaffMember`. */
export async function messagePlayerAsStaff(
  deps: ChatDeps,
  input: { playerId: number; id: string; text: string; staff: Pick<StaffActor, "userId"> },
) {
  const result = await messagePlayer(deps.db, input);
  deps.realtime.publish(staffReplyEvents(result), { socketId: deps.socketId });
  await writtenOut();
  return result;
}

async function changeRequest<I>(
  deps: ChatDeps,
  change: (db: ChatDeps["db"], input: I) => Promise<RequestChanged>,
  input: I,
  opts: { thenAssign?: boolean } = {},
): Promise<ChatRequest> {
  const { systemLine, ...request } = await change(deps.db, input);
  deps.realtime.publish(requestUpdatedEvents(request), { socketId: deps.socketId });
  // The answer carries the request, not the line: the acting tab gets the line like everyone else.
  if (systemLine) deps.realtime.publish(systemLineEvents({ message: systemLine, request }));
  if (opts.thenAssign) await assignWaiting(deps);
  return request;
}

export const claim = (deps: ChatDeps, input: { requestId: string; staff: StaffActor }) =>
  changeRequest(deps, claimRequest, input);
export const resolve = (deps: ChatDeps, input: { requestId: string; staff: StaffActor }) =>
  changeRequest(deps, resolveRequest, input, { thenAssign: true });
export const transfer = (deps: ChatDeps, input: { requestId: string; staff: StaffActor; toUserId: string }) =>
  changeRequest(deps, transferRequest, input);
export const release = (deps: ChatDeps, input: { requestId: string; staff: StaffActor }) =>
  changeRequest(deps, releaseRequest, input, { thenAssign: true });
export const takeOver = (deps: ChatDeps, input: { requestId: string; staff: StaffActor }) =>
  changeRequest(deps, takeOverRequest, input);
export const reopen = (deps: ChatDeps, input: { requestId: string; staff: StaffActor }) =>
  changeRequest(deps, reopenRequest, input);

/** A staff-only note; other staff screens showing the chat refetch its notes. */
export async function addNote(deps: ChatDeps, input: { requestId: string; text: string; staff: StaffActor }) {
  const note = await insertNote(deps.db, input);
  deps.realtime.publish(noteAddedEvents(input.requestId), { socketId: deps.socketId });
  return note;
}

/** On or off duty; coming on duty may let waiting chats be assigned. */
export async function setAccepting(deps: ChatDeps, input: { staffUserId: string; accepting: boolean }) {
  const row = await setAcceptingChats(deps.db, input);
  if (input.accepting) await assignWaiting(deps);
  return row;
}

/** An admin changed someone's capacity; more room may let waiting chats be assigned. */
export async function changeCapacity(deps: ChatDeps, input: { userId: string; maxConcurrentChats: number }) {
  const row = await setCapacity(deps.db, input);
  await assignWaiting(deps);
  return row;
}

/** Staff saw (received) or opened (read) a player's messages up to a seq. */
export async function markPlayerMessages(
  deps: ChatDeps,
  input: { playerId: number; status: "received" | "read"; upToSeq: number },
) {
  const change = await advanceReceipts(deps.db, { ...input, sender: "player" });
  deps.realtime.publish(statusEvents(change), { socketId: deps.socketId });
  return change;
}

/** The player read staff replies up to a seq. */
export async function markStaffMessagesRead(deps: ChatDeps, input: { player: PlayerActor; upToSeq: number }) {
  const change = await advanceReceipts(deps.db, {
    playerId: input.player.id,
    sender: "staff",
    status: "read",
    upToSeq: input.upToSeq,
  });
  deps.realtime.publish(statusEvents(change), { socketId: deps.socketId });
  return change;
}

/**
 * What a player sees above the thread: their place in the queue, who is with them, how many staff
 * are on duty, while waiting the recent median wait, and with no chat open the last closed one
 * and its rating.
 */
export async function waitingStatus(deps: ChatDeps, player: PlayerActor) {
  const request = await openRequestOf(deps.db, player.id);
  let queuePosition: number | null = null;
  if (request?.status === "waiting") {
    const [ahead] = await deps.db
      .select({ n: count() })
      .from(chatRequests)
      .where(and(eq(chatRequests.status, "waiting"), lt(chatRequests.createdAt, request.createdAt)));
    queuePosition = (ahead?.n ?? 0) + 1;
  }
  const expectedWait = request?.status === "waiting" ? await expectedWaitSeconds(deps.db) : null;
  const staffName = request?.assignedStaffId ? await staffNameOf(deps.db, request.assignedStaffId) : null;
  return {
    request,
    queuePosition,
    staffName,
    staffOnDuty: await staffOnDuty(deps),
    expectedWaitSeconds: expectedWait,
    lastResolved: await closed(),
  };

  /** With no chat open, the last closed one: the player may rate it (once). */
  async function closed() {
    if (request) return null;
    const last = await lastResolvedOf(deps.db, player.id);
    if (!last) return null;
    const name = last.staffId ? await staffNameOf(deps.db, last.staffId) : null;
    return { id: last.id, staffName: name, rating: last.rating };
  }
}

/**
 * Staff on duty = in the staff portal (presence) and accepting chats: someone signed in but not
 * taking chats will not answer, so a player must not count them. Presence lists staff by their
 * public id (realtime-auth), so the accepting list is mapped the same way. Null when unknown.
 */
async function staffOnDuty(deps: ChatDeps) {
  const present = await deps.realtime.presenceUserIds(STAFF_PRESENCE);
  if (present === null) return null;
  const here = new Set(present);
  return (await staffAcceptingChats(deps.db)).filter((userId) => here.has(staffPublicId(userId))).length;
}

async function staffNameOf(db: Db, userId: string) {
  const [row] = await db.select({ name: staff.displayName }).from(staff).where(eq(staff.userId, userId));
  return row?.name ?? null;
}

/** Requests waiting longer than `waitedMs` alert staff again: in the portal and by push. */
export async function escalate(deps: ChatDeps, input: { waitedMs: number; now?: Date }) {
  const escalated = await escalateLongWaits(deps.db, input);
  for (const request of escalated) {
    deps.realtime.publish(escalationEvents(request));
    deps.notifications?.escalated(request);
  }
  return escalated;
}
