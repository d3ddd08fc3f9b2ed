import { clusterRedisPrefix } from "../playwright.cluster.config";
import { dropRedisPrefix } from "../tests/support/redis";

/** Removes this run's keys (never anything else on a shared Redis). */
export default async function teardown() {
  await dropRedisPrefix(clusterRedisPrefix);
}
