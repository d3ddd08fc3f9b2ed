import { and, eq, ne } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import type { ChatMessage, ChatRequest } from "@/db/schema";
import { chatRequests } from "@/db/schema";
import type { StaffActor } from "./actors";
import { lastChangeWas, recordEvent, requireRoomToReopen } from "./assignment";
import { ChatError } from "./errors";
import { lockChat, nextVersion } from "./messages";
import { appendSystemLine } from "./system-lines";

/** The changed request, and the system line that tells the thread (absent on a harmless repeat). */
export type RequestChanged = ChatRequest & { systemLine?: ChatMessage };

/**
 * Resolve / reopen (claim, transfer, release and take-over live in assignment.ts). Each takes the
 * chat's locks (`lockChat`: player, then request), so it is serialised with every message and
 * every other change to that player's chat: when two staff press the same button at once exactly
 * one wins and the other gets a CONFLICT saying why. Repeating an action that already took effect
 * for the same staff member (a retried request whose answer was lost) returns the current row
 * instead of a false CONFLICT.
 */
export async function resolveRequest(db: Db, input: { requestId: string; staff: StaffActor }): Promise<RequestChanged> {
  return db.transaction(async (tx) => {
    const current = await lockChat(tx, input.requestId);
    const mine = current.status === "in_progress" && current.assignedStaffId === input.staff.userId;
    if (current.status === "waiting" || mine) {
      const resolved = await update(tx, current.id, { status: "resolved", resolvedAt: new Date() });
      await recordEvent(tx, resolved.id, "resolved", input.staff);
      const line = await appendSystemLine(tx, resolved, "resolved", input.staff);
      return { ...line.request, systemLine: line.message };
    }
    if (current.status === "resolved" && (await lastChangeWas(tx, current.id, "resolved", input.staff))) return current;
    throw new ChatError(
      "CONFLICT",
      current.status === "resolved" ? "This chat is already resolved" : "Another staff member is handling this chat",
    );
  });
}

export async function reopenRequest(db: Db, input: { requestId: string; staff: StaffActor }): Promise<RequestChanged> {
  return db.transaction(async (tx) => {
    // The player's lock (inside lockChat) keeps a message that would open a new chat from racing this.
    const target = await lockChat(tx, input.requestId);
    if (
      target.status === "in_progress" &&
      target.assignedStaffId === input.staff.userId &&
      (await lastChangeWas(tx, target.id, "reopened", input.staff))
    ) {
      return target;
    }
    if (target.status !== "resolved") throw new ChatError("CONFLICT", "This chat is not resolved");
    // The one-open-request-per-player index would refuse it anyway; say why in words.
    const [otherOpen] = await tx
      .select({ id: chatRequests.id })
      .from(chatRequests)
      .where(and(eq(chatRequests.playerId, target.playerId), ne(chatRequests.status, "resolved")));
    if (otherOpen) throw new ChatError("CONFLICT", "The player already has an open chat");
    await requireRoomToReopen(tx, input.staff);
    const reopened = await update(tx, target.id, {
      status: "in_progress",
      assignedStaffId: input.staff.userId,
      resolvedAt: null,
    });
    await recordEvent(tx, reopened.id, "reopened", input.staff);
    const line = await appendSystemLine(tx, reopened, "reopened", input.staff);
    return { ...line.request, systemLine: line.message };
  });
}

async function update(tx: Tx, id: string, change: Partial<ChatRequest>): Promise<ChatRequest> {
  const [row] = await tx
    .update(chatRequests)
    .set({ ...change, version: nextVersion })
    .where(eq(chatRequests.id, id))
    .returning();
  if (!row) throw new Error(`request ${id} vanished`);
  return row;
}
