import { and, eq, ne, or } from "drizzle-orm";
import type { Db } from "@/db/client";
import { chatRequests } from "@/db/schema";
import type { StaffActor } from "./actors";
import { ChatError } from "./errors";
import { lockPlayer } from "./messages";
import { recordEvent } from "./staff";

/**
 * Claim / resolve / reopen. Each is one conditional UPDATE, so when two staff press the same
 * button at once exactly one wins and the other gets a CONFLICT saying why.
 */
export async function claimRequest(db: Db, input: { requestId: string; staff: StaffActor }) {
  return db.transaction(async (tx) => {
    const [claimed] = await tx
      .update(chatRequests)
      .set({ status: "in_progress", assignedStaffId: input.staff.userId, claimedAt: new Date() })
      .where(and(eq(chatRequests.id, input.requestId), eq(chatRequests.status, "waiting")))
      .returning();
    if (claimed) {
      await recordEvent(tx, claimed.id, "claimed", input.staff);
      return claimed;
    }
    const current = await currentRequest(tx, input.requestId);
    if (current.status === "in_progress" && current.assignedStaffId === input.staff.userId) return current;
    throw new ChatError(
      "CONFLICT",
      current.status === "resolved" ? "This chat is already resolved" : "Another staff member already took this chat",
    );
  });
}

export async function resolveRequest(db: Db, input: { requestId: string; staff: StaffActor }) {
  return db.transaction(async (tx) => {
    const [resolved] = await tx
      .update(chatRequests)
      .set({ status: "resolved", resolvedAt: new Date() })
      .where(
        and(
          eq(chatRequests.id, input.requestId),
          or(
            eq(chatRequests.status, "waiting"),
            and(eq(chatRequests.status, "in_progress"), eq(chatRequests.assignedStaffId, input.staff.userId)),
          ),
        ),
      )
      .returning();
    if (resolved) {
      await recordEvent(tx, resolved.id, "resolved", input.staff);
      return resolved;
    }
    const current = await currentRequest(tx, input.requestId);
    throw new ChatError(
      "CONFLICT",
      current.status === "resolved" ? "This chat is already resolved" : "Another staff member is handling this chat",
    );
  });
}

export async function reopenRequest(db: Db, input: { requestId: string; staff: StaffActor }) {
  const { playerId } = await currentRequest(db, input.requestId);
  return db.transaction(async (tx) => {
    // The player's lock keeps a message that would open a new chat from racing this reopen.
    await lockPlayer(tx, playerId);
    const target = await currentRequest(tx, input.requestId);
    if (target.status !== "resolved") throw new ChatError("CONFLICT", "This chat is not resolved");
    // The one-open-request-per-player index would refuse it anyway; say why in words.
    const [otherOpen] = await tx
      .select({ id: chatRequests.id })
      .from(chatRequests)
      .where(and(eq(chatRequests.playerId, target.playerId), ne(chatRequests.status, "resolved")));
    if (otherOpen) throw new ChatError("CONFLICT", "The player already has an open chat");
    const [reopened] = await tx
      .update(chatRequests)
      .set({ status: "in_progress", assignedStaffId: input.staff.userId, resolvedAt: null })
      .where(and(eq(chatRequests.id, input.requestId), eq(chatRequests.status, "resolved")))
      .returning();
    if (!reopened) throw new ChatError("CONFLICT", "This chat changed meanwhile; try again");
    await recordEvent(tx, reopened.id, "reopened", input.staff);
    return reopened;
  });
}

async function currentRequest(tx: Pick<Db, "select">, requestId: string) {
  const [row] = await tx.select().from(chatRequests).where(eq(chatRequests.id, requestId));
  if (!row) throw new ChatError("NOT_FOUND", "Chat request not found");
  return row;
}
