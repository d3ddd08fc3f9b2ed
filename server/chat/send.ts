import { and, eq, ne } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { type ChatMessage, type ChatRequest, chatEvents, chatRequests } from "@/db/schema";
import type { SendMessageInput } from "@/protocol/inputs";
import type { PlayerActor } from "./actors";
import { appendMessage, findExisting, lockPlayerForSend } from "./messages";
import { nextSendAllowance, type SendLimit } from "./send-limit";

export type SendResult = {
  message: ChatMessage;
  request: ChatRequest;
  /** True when this send opened a new chat request (the staff queue gains an item). */
  openedRequest: boolean;
  /** True when the id was already stored: a retry; nothing new was written. */
  duplicate: boolean;
};

/**
 * A player's message: joins their open request or opens one, stores the message once.
 * Idempotent on `input.id`, so a client may retry as often as the network makes it.
 */
export async function sendPlayerMessage(
  db: Db,
  input: SendMessageInput & { player: PlayerActor; sendLimit?: SendLimit },
): Promise<SendResult> {
  const { player } = input;
  return db.transaction(async (tx) => {
    const held = await lockPlayerForSend(tx, player.id);
    const existing = await findExisting(tx, input.id, { playerId: player.id, sender: "player" });
    if (existing) {
      const request = await requestById(tx, existing.requestId);
      return { message: existing, request, openedRequest: false, duplicate: true };
    }
    // A retry above is never limited. The new allowance is written with the seq bump below.
    const sendAllowanceAt = nextSendAllowance(held, input.sendLimit);

    // Under the player lock, and locked itself: a Claim or Resolve waits for this send or went first.
    let request: ChatRequest | null | undefined = await openRequestOf(tx, player.id, { lock: true });
    const openedRequest = !request;
    if (!request) {
      [request] = await tx
        .insert(chatRequests)
        .values({ playerId: player.id, playerName: player.displayName, initialMessage: input.text })
        .returning();
      if (!request) throw new Error("insert returned no row");
      await tx.insert(chatEvents).values({
        requestId: request.id,
        type: "created",
        actorUserId: player.userId,
        actorName: player.displayName,
      });
    }

    const appended = await appendMessage(tx, {
      id: input.id,
      requestId: request.id,
      playerId: player.id,
      sender: "player",
      senderName: player.displayName,
      senderUserId: player.userId,
      text: input.text,
      sendAllowanceAt,
    });
    return { ...appended, openedRequest, duplicate: false };
  });
}

export async function openRequestOf(tx: Tx | Db, playerId: number, opts: { lock?: boolean } = {}) {
  const query = tx
    .select()
    .from(chatRequests)
    .where(and(eq(chatRequests.playerId, playerId), ne(chatRequests.status, "resolved")));
  const [open] = opts.lock ? await query.for("update") : await query;
  return open ?? null;
}

async function requestById(tx: Tx, id: string) {
  const [request] = await tx.select().from(chatRequests).where(eq(chatRequests.id, id));
  if (!request) throw new Error(`request ${id} vanished`);
  return request;
}
