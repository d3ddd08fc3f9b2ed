import { asc, eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { chatEvents, chatNotes } from "@/db/schema";
import type { StaffActor } from "./actors";
import { recordEvent } from "./assignment";
import { getRequest } from "./staff";

/**
 * Internal notes: staff only. They live in their own table, are read only by staff procedures,
 * and are never published (other staff screens get only "a note was added to request X") — no
 * player procedure, route or channel can reach them.
 */
export async function insertNote(db: Db, input: { requestId: string; text: string; staff: StaffActor }) {
  await getRequest(db, input.requestId);
  return db.transaction(async (tx) => {
    const [note] = await tx
      .insert(chatNotes)
      .values({
        requestId: input.requestId,
        authorUserId: input.staff.userId,
        authorName: input.staff.displayName,
        text: input.text,
      })
      .returning();
    if (!note) throw new Error("insert returned no row");
    await recordEvent(tx, input.requestId, "note_added", input.staff);
    return note;
  });
}

export async function listNotes(db: Db, requestId: string) {
  return db.select().from(chatNotes).where(eq(chatNotes.requestId, requestId)).orderBy(asc(chatNotes.createdAt));
}

/** The conversation's timeline: every state change with who and when, oldest first. */
export async function listTimeline(db: Db, requestId: string) {
  return db
    .select({
      id: chatEvents.id,
      type: chatEvents.type,
      actorName: chatEvents.actorName,
      targetName: chatEvents.targetName,
      at: chatEvents.at,
    })
    .from(chatEvents)
    .where(eq(chatEvents.requestId, requestId))
    .orderBy(asc(chatEvents.id));
}
