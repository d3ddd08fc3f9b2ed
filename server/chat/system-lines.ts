import { randomUUID } from "node:crypto";
import type { Tx } from "@/db/client";
import type { ChatMessage, ChatRequest } from "@/db/schema";
import type { StaffActor } from "./actors";
import { appendMessage } from "./messages";

/** What the thread says when a chat changes hands or state, in the words both sides read. */
const lines = {
  claimed: (staff: string) => `${staff} is with you`,
  resolved: (staff: string) => `Chat closed by ${staff} — write any time to start again`,
  reopened: (staff: string) => `${staff} reopened the chat`,
  released: (staff: string) => `${staff} put your chat back in the queue — the next free staff member will answer`,
} as const;
export type SystemLineKind = keyof typeof lines;

/**
 * Writes a system line into the player's thread inside the caller's transaction (which holds the
 * chat's locks), so the line and the change it describes commit together and share the thread's
 * seq order: a client that catches up sees them in the order they happened.
 */
export async function appendSystemLine(
  tx: Tx,
  request: ChatRequest,
  kind: SystemLineKind,
  staff: StaffActor,
): Promise<{ message: ChatMessage; request: ChatRequest }> {
  return appendMessage(tx, {
    id: randomUUID(),
    requestId: request.id,
    playerId: request.playerId,
    sender: "system",
    senderName: "Floorline",
    senderUserId: null,
    text: lines[kind](staff.displayName),
  });
}
