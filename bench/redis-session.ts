/**
 * `TEST_DATABASE_URL=postgres://… npx tsx bench/redis-session.ts`: what a session read costs when
 * sessions live in Redis (REDIS_URL set; better-auth's secondary storage), in this process: one
 * signed-in player on a fresh Postgres database of its own and the Redis at TEST_REDIS_URL (default
 * 127.0.0.1:6379) under a key prefix of the run (removed at the end). ROUNDS (6) alternated blocks
 * of BLOCK (500) sequential reads each: better-auth's getSession (what a first lookup and a re-read
 * took before), the session cache's read (auth.ts sessionByToken: better-auth's findSession) and,
 * for scale, the same read with sessions in Postgres (the prepared row read). Prints CPU µs per read
 * (process.cpuUsage: this process's, all its threads) and wall µs, per block and their medians, and
 * the load average.
 */
import os from "node:os";
import { seedDemoData } from "@/db/seed";
import { createAuth } from "@/server/auth";
import type { HttpDeps } from "@/server/http/deps";
import { sharedAuthStorage } from "@/server/shared-state";
import { openTestDb } from "../tests/support/db";
import { signInCookie } from "../tests/support/http";
import { dropRedisPrefix, TEST_REDIS_URL, testRedisPrefix } from "../tests/support/redis";

const rounds = Number(process.env.ROUNDS ?? 6);
const block = Number(process.env.BLOCK ?? 500);
const load = () => os.loadavg().map((x) => x.toFixed(2));

const prefix = testRedisPrefix();
const handle = await openTestDb("postgres");
await seedDemoData(handle.db);
try {
  const inRedis = createAuth(handle.db, {
    shared: sharedAuthStorage({ url: TEST_REDIS_URL, prefix, database: "postgres" }),
    signInLimitPerMinute: 1000,
  });
  const inPostgres = createAuth(handle.db, { shared: { rateLimitStorage: "memory" }, signInLimitPerMinute: 1000 });
  const cookie = await signInCookie({ auth: inRedis } as HttpDeps, "player31@floorline.test");
  const headers = new Headers({ cookie, origin: "http://localhost:3000" });
  const token = decodeURIComponent(/better-auth\.session_token=([^;]+)/.exec(cookie)?.[1] ?? "").split(".")[0] ?? "";
  const kinds: Record<string, () => Promise<unknown>> = {
    "getSession (Redis)": () => inRedis.api.getSession({ headers }),
    "findSession (Redis)": () => inRedis.sessionByToken(token),
    "row read (Postgres)": () => inPostgres.sessionByToken(token),
  };
  for (const read of Object.values(kinds)) if (!(await read())) throw new Error("no session");
  const samples: Record<string, { cpu: number[]; wall: number[] }> = {};
  console.log("start", JSON.stringify({ at: new Date().toISOString(), load: load(), block, rounds }));
  for (let round = 0; round < rounds + 1; round++) {
    for (const [name, read] of round % 2 ? Object.entries(kinds).reverse() : Object.entries(kinds)) {
      const cpu = process.cpuUsage();
      const wall = performance.now();
      for (let i = 0; i < block; i++) await read();
      const used = process.cpuUsage(cpu);
      // Round 0 warms every path up and is not counted.
      if (round === 0) continue;
      samples[name] ??= { cpu: [], wall: [] };
      samples[name].cpu.push(+((used.user + used.system) / block).toFixed(1));
      samples[name].wall.push(+(((performance.now() - wall) * 1000) / block).toFixed(1));
    }
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  for (const [name, { cpu, wall }] of Object.entries(samples))
    console.log(
      name,
      JSON.stringify({ cpuUs: cpu, cpuUsMedian: median(cpu), wallUs: wall, wallUsMedian: median(wall) }),
    );
  console.log("end", JSON.stringify({ at: new Date().toISOString(), load: load() }));
} finally {
  await dropRedisPrefix(prefix);
  await handle.close();
}
process.exit();
