import { randomUUID } from "node:crypto";
import { Redis } from "ioredis";

/** The Redis the cluster tests use; each test gets a key prefix of its own, removed after it. */
export const TEST_REDIS_URL = process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379";

export function testRedisPrefix() {
  return `floorline-test:${randomUUID()}:`;
}

/** Deletes every key under a test's prefix (never anything else on the shared Redis). */
export async function dropRedisPrefix(prefix: string) {
  const redis = new Redis(TEST_REDIS_URL);
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${prefix}*`, "COUNT", 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}
