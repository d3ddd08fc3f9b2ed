import { sql } from "drizzle-orm";
import { type Db, rowsOf } from "@/db/client";
import { ChatError } from "./errors";

/** A burst of `burst` messages, then `perSecond` a second. `perSecond: 0` → no limit (the bench). */
export type SendLimit = { burst: number; perSecond: number };

/*
 * The rule itself is GCRA (a token bucket kept as one timestamp), in the database as
 * `chat_send_allowance` (db/migrations/0010): `players.send_allowance_at` is when the allowance
 * would be full again. The send reads it under the player row lock, with the database's clock, so
 * every web instance applies one limit, and writes the new allowance with the seq bump in the same
 * statement (`chat_send_player_message`).
 */

/** A send over the limit: TOO_MANY_REQUESTS with the wait, so the outbox holds the message that long. */
export function tooManyRequests(seconds: number) {
  return new ChatError("TOO_MANY_REQUESTS", `Slow down — sending again in ${seconds} s`, {
    retryAfterSeconds: seconds,
  });
}

/**
 * Refuses as the send would, without taking anything and without the lock: a photo over the
 * limit is turned away before the server spends a second of CPU re-encoding it. The send itself
 * still takes the allowance under the lock.
 */
export async function checkSendAllowance(db: Db, playerId: number, limit: SendLimit | undefined) {
  if (!limit || limit.perSecond <= 0) return;
  const [row] = await rowsOf<{ wait_seconds: number | null }>(
    db,
    sql`select a.wait_seconds from players p,
      chat_send_allowance(p.send_allowance_at, clock_timestamp(), ${limit.burst}::integer, ${limit.perSecond}::float8) a
      where p.id = ${playerId}`,
  );
  if (!row) throw new ChatError("NOT_FOUND", `Player ${playerId} not found`);
  if (row.wait_seconds !== null) throw tooManyRequests(row.wait_seconds);
}
