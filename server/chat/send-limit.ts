import { eq, sql } from "drizzle-orm";
import type { Db, Tx } from "@/db/client";
import { players } from "@/db/schema";
import { ChatError } from "./errors";

/** A burst of `burst` messages, then `perSecond` a second. `perSecond: 0` → no limit (the bench). */
export type SendLimit = { burst: number; perSecond: number };

/**
 * Takes one send from the player's allowance, or refuses with TOO_MANY_REQUESTS and the wait.
 * GCRA (a token bucket kept as one timestamp): `players.send_allowance_at` is when the
 * allowance would be full again. The caller holds the player row lock, and time is the
 * database's clock, so every web instance applies one limit.
 */
export async function takeSendAllowance(tx: Tx, playerId: number, limit: SendLimit | undefined) {
  const next = await allowanceAfterOneMore(tx, playerId, limit);
  if (next === null) return;
  await tx.update(players).set({ sendAllowanceAt: next }).where(eq(players.id, playerId));
}

/**
 * Refuses like `takeSendAllowance` would, without taking anything and without the lock: a photo
 * over the limit is turned away before the server spends a second of CPU re-encoding it. The
 * send itself still takes the allowance under the lock.
 */
export async function checkSendAllowance(db: Db, playerId: number, limit: SendLimit | undefined) {
  await allowanceAfterOneMore(db, playerId, limit);
}

/** When the allowance would be full again after one more send; over the limit → TOO_MANY_REQUESTS. */
async function allowanceAfterOneMore(db: Db | Tx, playerId: number, limit: SendLimit | undefined) {
  if (!limit || limit.perSecond <= 0) return null;
  const [row] = await db
    .select({
      allowanceAt: players.sendAllowanceAt,
      now: sql<Date>`clock_timestamp()`.mapWith(players.sendAllowanceAt),
    })
    .from(players)
    .where(eq(players.id, playerId));
  if (!row) throw new ChatError("NOT_FOUND", `Player ${playerId} not found`);
  const now = row.now.getTime();
  const interval = 1000 / limit.perSecond;
  const next = Math.max(row.allowanceAt?.getTime() ?? now, now) + interval;
  const over = next - now - limit.burst * interval;
  if (over > 0) {
    const seconds = Math.ceil(over / 1000);
    throw new ChatError("TOO_MANY_REQUESTS", `Slow down — sending again in ${seconds} s`, {
      retryAfterSeconds: seconds,
    });
  }
  return new Date(next);
}
