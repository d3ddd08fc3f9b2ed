import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { chatMessages, chatRequests, players } from "@/db/schema";

/**
 * A demo player's thread with the given texts, for the tests of what a thread page answers: one
 * chat, messages alternating player / staff (the staff ones under `staffName`, with a staff user
 * id) from seq 1, the i-th at `at(i)`, and the text "photo" a photo message.
 */
export async function insertThread(
  db: Db,
  opts: { playerId: number; texts: string[]; staffName: string; at: (i: number) => Date },
) {
  const { playerId, texts } = opts;
  const [player] = await db.select().from(players).where(eq(players.id, playerId));
  if (!player) throw new Error(`demo player ${playerId} missing`);
  const [request] = await db
    .insert(chatRequests)
    .values({ playerId, playerName: player.displayName, initialMessage: texts[0] ?? "" })
    .returning();
  if (!request) throw new Error("no request");
  await db.insert(chatMessages).values(
    texts.map((text, i) => ({
      id: randomUUID(),
      requestId: request.id,
      playerId,
      seq: i + 1,
      sender: i % 2 === 0 ? ("player" as const) : ("staff" as const),
      senderName: i % 2 === 0 ? player.displayName : opts.staffName,
      senderUserId: i % 2 === 0 ? null : "staff-user-id",
      messageText: text,
      timestamp: opts.at(i),
      photo:
        text === "photo" ? { type: "image/jpeg", width: 2800, height: 1400, thumbWidth: 320, thumbHeight: 160 } : null,
    })),
  );
  return { player, request };
}
