import { and, eq, ne, sql } from "drizzle-orm";
import { type Db, rowsOf, type Tx } from "@/db/client";
import { type ChatMessage, type ChatRequest, chatRequests } from "@/db/schema";
import type { SendMessageInput } from "@/protocol/inputs";
import type { PlayerActor } from "./actors";
import { ChatError } from "./errors";
import { idTaken, insertPhoto, messageFromJson, photoMeta, requestFromJson, takenIfRaced } from "./messages";
import type { PreparedPhoto } from "./photos";
import { type SendLimit, tooManyRequests } from "./send-limit";

export type SendResult = {
  message: ChatMessage;
  request: ChatRequest;
  /** True when this send opened a new chat request (the staff queue gains an item). */
  openedRequest: boolean;
  /** True when the id was already stored: a retry; nothing new was written. */
  duplicate: boolean;
};

/** What a signed-in user without a player record hears (tRPC's playerProcedure says the same). */
export const ONLY_PLAYERS = "Only players can do this";

type SendRow = {
  outcome: "sent" | "duplicate" | "limited" | "conflict" | "no_player";
  wait_seconds: number | null;
  opened_request: boolean;
  message: unknown;
  request: unknown;
};

/**
 * A player's message: joins their open request or opens one, stores the message once.
 * Idempotent on `input.id`, so a client may retry as often as the network makes it.
 *
 * One statement, `chat_send_player_message` (db/migrations/0010): it finds the player by user id
 * and locks their row, returns a stored id as a retry (never limited), takes the send allowance
 * (send-limit.ts), locks or opens the request and appends the message (`chat_append_message`).
 * Alone it is its own transaction: one round trip, no BEGIN/COMMIT. A photo's bytes are written
 * beside the row in the same transaction.
 */
export async function sendPlayerMessage(
  db: Db,
  input: SendMessageInput & { player: Pick<PlayerActor, "userId">; sendLimit?: SendLimit; photo?: PreparedPhoto },
): Promise<SendResult> {
  const limited = input.sendLimit && input.sendLimit.perSecond > 0 ? input.sendLimit : null;
  const send = async (tx: Db | Tx) => {
    const [row] = await rowsOf<SendRow>(
      tx,
      sql`select * from chat_send_player_message(${input.player.userId}::text, ${input.id}::uuid, ${input.text}::text,
        ${photoMeta(input.photo)}::jsonb, ${limited?.burst ?? null}::integer, ${limited?.perSecond ?? null}::float8)`,
    ).catch(takenIfRaced);
    if (!row) throw new Error("chat_send_player_message returned no row");
    switch (row.outcome) {
      case "no_player":
        throw new ChatError("FORBIDDEN", ONLY_PLAYERS);
      case "conflict":
        throw idTaken();
      case "limited":
        throw tooManyRequests(row.wait_seconds ?? 1);
    }
    const result: SendResult = {
      message: messageFromJson(row.message),
      request: requestFromJson(row.request),
      openedRequest: row.opened_request,
      duplicate: row.outcome === "duplicate",
    };
    return result;
  };
  const { photo } = input;
  if (!photo) return send(db);
  return db.transaction(async (tx) => {
    const result = await send(tx);
    if (!result.duplicate) await insertPhoto(tx, result.message, photo);
    return result;
  });
}

export async function openRequestOf(db: Db, playerId: number) {
  const [open] = await db
    .select()
    .from(chatRequests)
    .where(and(eq(chatRequests.playerId, playerId), ne(chatRequests.status, "resolved")));
  return open ?? null;
}
