import { type SQL, type SQLWrapper, sql } from "drizzle-orm";
import { players, staff } from "@/db/schema";
import type { PlayerActor, StaffActor } from "./actors";
import { parseChannel } from "./channels";

/**
 * Who may do what, in one place: the REST routes, the tRPC procedures and channel authorization
 * all ask these functions instead of writing the rule again.
 */
export type Viewer = { player: Pick<PlayerActor, "id"> | null; staff: Pick<StaffActor, "userId"> | null };

/** Player N's thread (reading it, hearing it live): that player, and any staff member. */
export function mayReadThread(viewer: Viewer, playerId: number): boolean {
  return viewer.staff !== null || (viewer.player !== null && viewer.player.id === playerId);
}

/**
 * mayReadThread inside a statement that reads a thread together with its reader's records
 * (messages.ts, `threadPageWithReader`): rows are only read for a user who has a staff record or is
 * player N. It admits at least everyone mayReadThread does, which still decides; it only keeps the
 * rows (and what their cost or a Server-Timing header would tell) from anyone else.
 */
export function mayReadThreadSql(userId: SQLWrapper, playerId: SQLWrapper): SQL {
  return sql`(exists (select 1 from ${staff} where ${staff.userId} = ${userId})
    or exists (select 1 from ${players} where ${players.id} = ${playerId} and ${players.userId} = ${userId}))`;
}

/**
 * Writing into player N's thread: staff, or player N as themselves. A staff reply narrows it in the
 * database, in its one statement (`chat_staff_reply`, db/migrations/0013): the staff record is
 * found by user id there, and only the chat's holder may answer (a waiting chat is taken first).
 * That statement is the only place the holder rule is decided; tests/chat/staff.test.ts holds it
 * to the refusals staff had before.
 */
export const mayWriteThread = mayReadThread;

/**
 * Channel subscriptions. Staff channels: staff. `private-player-{id}` and
 * `presence-viewing-{id}` (who has the conversation on screen; typing): whoever may read that
 * thread. Any other name, or a non-canonical id, is refused.
 */
export function maySubscribe(viewer: Viewer, channel: string): boolean {
  const target = parseChannel(channel);
  if (!target) return false;
  if (target.kind === "staff") return viewer.staff !== null;
  return mayReadThread(viewer, target.playerId);
}
