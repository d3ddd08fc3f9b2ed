import { and, eq, ne } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { type ChatMessage, type ChatRequest, chatEvents, chatRequests } from "@/db/schema";
import type { PlayerActor } from "./actors";
import type { SendMessageInput } from "./inputs";
import { appendMessage, findExisting, lockPlayer } from "./messages";
import { type SendLimit, takeSendAllowance } from "./send-limit";

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
    await lockPlayer(tx, player.id);

    const existing = await findExisting(tx, input.id, { playerId: player.id, sender: "player" });
    if (existing) {
      const request = await requestById(tx, existing.requestId);
      return { message: existing, request, openedRequest: false, duplicate: true };
    }
    await takeSendAllowance(tx, player.id, input.sendLimit); // a retry above is never limited

    let request: ChatRequest | null | undefined = await openRequestOf(tx, player.id);
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

    const message = await appendMessage(tx, {
      id: input.id,
      requestId: request.id,
      playerId: player.id,
      sender: "player",
      senderName: player.displayName,
      senderUserId: player.userId,
      text: input.text,
    });
    return { message, request: { ...request, lastMessageAt: message.timestamp }, openedRequest, duplicate: false };
  });
}

export async function openRequestOf(tx: Tx | Db, playerId: number) {
  const [open] = await tx
    .select()
    .from(chatRequests)
    .where(and(eq(chatRequests.playerId, playerId), ne(chatRequests.status, "resolved")));
  return open ?? null;
}

async function requestById(tx: Tx, id: string) {
  const [request] = await tx.select().from(chatRequests).where(eq(chatRequests.id, id));
  if (!request) throw new Error(`request ${id} vanished`);
  return request;
}
