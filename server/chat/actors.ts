import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { type Player, players, type Role, type Staff, staff } from "@/db/schema";

/** Who is acting, resolved from the session once by the transport layer. */
export type PlayerActor = Pick<Player, "id" | "displayName" | "userId">;
export type StaffActor = Pick<Staff, "userId" | "displayName">;

/** The player or staff record behind a signed-in user (a role without its record counts as neither). */
export async function findPlayer(db: Db, user: { id: string; role: Role }) {
  if (user.role !== "player") return null;
  const [row] = await db.select().from(players).where(eq(players.userId, user.id));
  return row ?? null;
}

export async function findStaff(db: Db, user: { id: string; role: Role }) {
  if (user.role !== "staff" && user.role !== "admin") return null;
  const [row] = await db.select().from(staff).where(eq(staff.userId, user.id));
  return row ?? null;
}
