import { and, eq, isNull, lte } from "drizzle-orm";
import type { Db } from "@/db/client";
import { chatRequests } from "@/db/schema";
import { nextVersion } from "./messages";

/**
 * Marks requests that have waited longer than `waitedMs` as escalated and returns them.
 * One UPDATE … RETURNING: if several servers run this loop, each request escalates once.
 */
export async function escalateLongWaits(db: Db, input: { waitedMs: number; now?: Date }) {
  const now = input.now ?? new Date();
  return db
    .update(chatRequests)
    .set({ escalatedAt: now, version: nextVersion })
    .where(
      and(
        eq(chatRequests.status, "waiting"),
        isNull(chatRequests.escalatedAt),
        lte(chatRequests.createdAt, new Date(now.getTime() - input.waitedMs)),
      ),
    )
    .returning();
}
