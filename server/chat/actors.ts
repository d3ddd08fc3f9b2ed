import { eq, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { preparedOnce } from "@/db/prepared";
import { type Player, players, type Role, type Staff, staff } from "@/db/schema";
import { warmUpPlayer, warmUpStaff } from "../warm-up-caller";

/** Who is acting, resolved from the session once by the transport layer. */
export type PlayerActor = Pick<Player, "id" | "displayName" | "userId">;
export type StaffActor = Pick<Staff, "userId" | "displayName">;

/** The player or staff record behind a signed-in user (a role without its record counts as neither). */
export async function findPlayer(db: Db, user: { id: string; role: Role }) {
  if (!isPlayerRole(user.role)) return null;
  // The warm-up's player has no row (warm-up-caller.ts): its record is made there, while it runs.
  const warmUp = warmUpPlayer(user.id);
  if (warmUp) return warmUp;
  const [row] = await playerByUser(db).execute({ userId: user.id });
  return row ?? null;
}

/** The roles that act as staff (with a staff record): staff and admins. */
export const isStaffRole = (role: Role) => role === "staff" || role === "admin";
export const isPlayerRole = (role: Role) => role === "player";

/** A user's records found some other way (read with a page), kept only where the role says so, as findPlayer / findStaff do. */
export function actorsOf<P, S>(user: { role: Role }, records: { player: P | null; staff: S | null }) {
  return {
    player: isPlayerRole(user.role) ? records.player : null,
    staff: isStaffRole(user.role) ? records.staff : null,
  };
}

/**
 * A thread reader's records as threadPageWithReader reads them with the page (ids, or null), kept
 * where the role says so (actorsOf); the warm-up's caller, whom no row has, gets its own records
 * as findPlayer and findStaff give them.
 */
export function readerActors(
  user: { id: string; role: Role },
  reader: { playerId: number | null; staffUserId: string | null },
) {
  return actorsOf(user, {
    player: reader.playerId === null ? warmUpPlayer(user.id) : { id: reader.playerId },
    staff: reader.staffUserId === null ? warmUpStaff(user.id) : { userId: reader.staffUserId },
  });
}

export async function findStaff(db: Db, user: { id: string; role: Role }) {
  if (!isStaffRole(user.role)) return null;
  const warmUp = warmUpStaff(user.id);
  if (warmUp) return warmUp;
  const [row] = await staffByUser(db).execute({ userId: user.id });
  return row ?? null;
}

// Every player or staff call runs one of these first: prepared once, not rebuilt by drizzle and
// parsed by Postgres on each request (issue 11).
const playerByUser = preparedOnce((db: Db) =>
  db
    .select()
    .from(players)
    .where(eq(players.userId, sql.placeholder("userId")))
    .prepare("player_by_user"),
);
const staffByUser = preparedOnce((db: Db) =>
  db
    .select()
    .from(staff)
    .where(eq(staff.userId, sql.placeholder("userId")))
    .prepare("staff_by_user"),
);
