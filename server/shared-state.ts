import type { SecondaryStorage } from "better-auth";
import { sql } from "drizzle-orm";
import { Redis } from "ioredis";
import type { DbHandle } from "@/db/client";

/**
 * What web instances share so any number of them behave as one (nothing lives in one web
 * process that another would need): better-auth's secondary storage on Redis when REDIS_URL is
 * set (sessions, the sign-in limiter), the database otherwise; and a lease for periodic jobs.
 */

/** Increments a counter, setting its time to live only when it is created (better-auth's contract). */
const INCREMENT = `
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[1]) end
return n`;

/** better-auth's SecondaryStorage on Redis (ioredis, the client the realtime adapter uses). */
export function redisSecondaryStorage(url: string, prefix: string): SecondaryStorage {
  const redis = new Redis(url, { keyPrefix: `${prefix}auth:`, maxRetriesPerRequest: 2 });
  // ioredis reconnects by itself; an outage fails the requests that need Redis (5xx), said once here.
  let said = false;
  redis.on("error", (err: Error) => {
    if (!said) console.error(`[auth] Redis at REDIS_URL unreachable: ${err.message}`);
    said = true;
  });
  redis.on("ready", () => {
    said = false;
  });
  return {
    get: (key) => redis.get(key),
    getAndDelete: (key) => redis.getdel(key),
    set: async (key, value, ttl) => {
      if (ttl && ttl > 0) await redis.set(key, value, "EX", Math.ceil(ttl));
      else await redis.set(key, value);
    },
    delete: async (key) => {
      await redis.del(key);
    },
    increment: async (key, ttl) => Number(await redis.eval(INCREMENT, 1, key, String(Math.max(1, Math.ceil(ttl))))),
  };
}

export type SharedAuthStorage = {
  secondaryStorage?: SecondaryStorage;
  storeSessionInDatabase?: boolean;
  rateLimitStorage: "secondary-storage" | "database" | "memory";
};

/**
 * better-auth settings for shared state: Redis when REDIS_URL is set; otherwise the sign-in
 * limiter counts in Postgres (`rate_limit`), which every instance on it shares. The embedded
 * database serves one process, so there the limiter stays in that process's memory.
 */
export function sharedAuthStorage(redis: {
  url?: string;
  prefix: string;
  database: "postgres" | "pglite";
}): SharedAuthStorage {
  if (redis.url) {
    return {
      secondaryStorage: redisSecondaryStorage(redis.url, redis.prefix),
      // Sessions stay in Postgres too: Redis is a cache of them, not their only copy.
      storeSessionInDatabase: true,
      rateLimitStorage: "secondary-storage",
    };
  }
  return { rateLimitStorage: redis.database === "postgres" ? "database" : "memory" };
}

/**
 * Runs `job` only if no other instance is running it now: a transaction-scoped Postgres
 * advisory lock, released when the transaction ends (also if this process dies). Returns
 * whether it ran. The embedded database serves one process, so there the job just runs.
 */
export async function runExclusive(handle: Pick<DbHandle, "db" | "kind">, lockId: number, job: () => Promise<void>) {
  if (handle.kind === "pglite") {
    await job();
    return true;
  }
  return handle.db.transaction(async (tx) => {
    const result = (await tx.execute(sql`select pg_try_advisory_xact_lock(${lockId}) as locked`)) as {
      rows: Array<{ locked: boolean }>;
    };
    if (!result.rows[0]?.locked) return false;
    await job();
    return true;
  });
}

/** Advisory lock ids of Floorline's periodic jobs (one number per job, across all instances). */
export const LOCKS = { escalation: 0x0f10_0001 } as const;
