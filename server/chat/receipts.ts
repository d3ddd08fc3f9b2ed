import { and, eq, inArray, lte } from "drizzle-orm";
import type { Db } from "@/db/client";
import { chatMessages, type MessageStatus, type Sender } from "@/db/schema";

export type StatusChange = {
  playerId: number;
  /** Whose messages changed: staff report on player messages, the player on staff messages. */
  sender: Sender;
  status: Exclude<MessageStatus, "sent">;
  upToSeq: number;
  /** How many rows moved forward; 0 → nothing to announce. */
  updated: number;
};

/**
 * Moves receipts forward (sent → received → read) for one side's messages up to a seq.
 * Never backwards: a late "received" after "read" changes nothing.
 */
export async function advanceReceipts(
  db: Db,
  input: { playerId: number; sender: Sender; status: StatusChange["status"]; upToSeq: number },
): Promise<StatusChange> {
  const behind: MessageStatus[] = input.status === "read" ? ["sent", "received"] : ["sent"];
  const rows = await db
    .update(chatMessages)
    .set({ status: input.status })
    .where(
      and(
        eq(chatMessages.playerId, input.playerId),
        eq(chatMessages.sender, input.sender),
        lte(chatMessages.seq, input.upToSeq),
        inArray(chatMessages.status, behind),
      ),
    )
    .returning({ seq: chatMessages.seq });
  return { ...input, updated: rows.length };
}
