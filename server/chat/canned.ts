import { asc, eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { uniqueViolation } from "@/db/errors";
import { cannedReplies } from "@/db/schema";
import type { CannedReplyInput } from "@/protocol/inputs";
import { ChatError } from "./errors";

/** Canned replies: admins keep the list; staff insert them with `/` in the composer. */
export async function listCannedReplies(db: Db) {
  return db.select().from(cannedReplies).orderBy(asc(cannedReplies.title));
}

export async function createCannedReply(db: Db, input: CannedReplyInput) {
  const [row] = await db.insert(cannedReplies).values(input).onConflictDoNothing().returning();
  if (!row) throw new ChatError("CONFLICT", `A canned reply titled "${input.title}" already exists`);
  return row;
}

export async function updateCannedReply(db: Db, input: CannedReplyInput & { id: string }) {
  // The title's unique index decides (two admins renaming at once), not a look beforehand.
  const [row] = await db
    .update(cannedReplies)
    .set({ title: input.title, body: input.body, updatedAt: new Date() })
    .where(eq(cannedReplies.id, input.id))
    .returning()
    .catch((err: unknown) => {
      if (uniqueViolation(err) === null) throw err;
      throw new ChatError("CONFLICT", `A canned reply titled "${input.title}" already exists`);
    });
  if (!row) throw new ChatError("NOT_FOUND", "Canned reply not found");
  return row;
}

export async function deleteCannedReply(db: Db, input: { id: string }) {
  const [row] = await db.delete(cannedReplies).where(eq(cannedReplies.id, input.id)).returning();
  if (!row) throw new ChatError("NOT_FOUND", "Canned reply not found");
  return { id: row.id };
}
