import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { staff } from "@/db/schema";

/** Staff who want new chats (user ids; server/notify turns them into opaque OneSignal ids). */
export async function staffAcceptingChats(db: Db): Promise<string[]> {
  const rows = await db.select({ userId: staff.userId }).from(staff).where(eq(staff.acceptingChats, true));
  return rows.map((r) => r.userId);
}

export async function setAcceptingChats(db: Db, input: { staffUserId: string; accepting: boolean }) {
  const [row] = await db
    .update(staff)
    .set({ acceptingChats: input.accepting })
    .where(eq(staff.userId, input.staffUserId))
    .returning({ acceptingChats: staff.acceptingChats });
  return row ?? null;
}
