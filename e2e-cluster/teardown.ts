import { Redis } from "ioredis";
import { clusterRedisPrefix } from "../playwright.cluster.config";

/** Removes this run's keys (never anything else on a shared Redis). */
export default async function teardown() {
  const redis = new Redis(process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379");
  try {
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, "MATCH", `${clusterRedisPrefix}*`, "COUNT", 1000);
      if (keys.length) await redis.del(...keys);
      cursor = next;
    } while (cursor !== "0");
  } finally {
    redis.disconnect();
  }
}
