import type { Db } from "@/db/client";
import { ChatError } from "./errors";
import { readSendAllowance } from "./messages";

/** A burst of `burst` messages, then `perSecond` a second. `perSecond: 0` → no limit (the bench). */
export type SendLimit = { burst: number; perSecond: number };

/**
 * The player's allowance after one more send, or a refusal with TOO_MANY_REQUESTS and the wait.
 * GCRA (a token bucket kept as one timestamp): `players.send_allowance_at` is when the
 * allowance would be full again. The caller read it under the player row lock, with the
 * database's clock (`now`), so every web instance applies one limit; it writes the answer back
 * in the same transaction. Undefined = no limit, nothing to write.
 */
export function nextSendAllowance(
  held: { allowanceAt: Date | null; now: Date },
  limit: SendLimit | undefined,
): Date | undefined {
  if (!limit || limit.perSecond <= 0) return undefined;
  const now = held.now.getTime();
  const interval = 1000 / limit.perSecond;
  const next = Math.max(held.allowanceAt?.getTime() ?? now, now) + interval;
  const over = next - now - limit.burst * interval;
  if (over > 0) {
    const seconds = Math.ceil(over / 1000);
    throw new ChatError("TOO_MANY_REQUESTS", `Slow down — sending again in ${seconds} s`, {
      retryAfterSeconds: seconds,
    });
  }
  return new Date(next);
}

/**
 * Refuses as the send would, without taking anything and without the lock: a photo over the
 * limit is turned away before the server spends a second of CPU re-encoding it. The send itself
 * still takes the allowance under the lock.
 */
export async function checkSendAllowance(db: Db, playerId: number, limit: SendLimit | undefined) {
  if (!limit || limit.perSecond <= 0) return;
  nextSendAllowance(await readSendAllowance(db, playerId), limit);
}
