import { createHash } from "node:crypto";
import { defineConfig } from "@playwright/test";
import base from "./playwright.config";

/**
 * The live chat across a cluster: web A with realtime node A, web B with node B, one Postgres
 * (TEST_DATABASE_URL) and one Redis. Players use A, staff use B, so every event crosses nodes.
 * `npm run e2e:cluster` (part of `npm test`) runs it on a database of its own (scripts/e2e-cluster.ts):
 * after the main suite, Player 31's chat is held by another staff member.
 */
const ports = {
  webA: Number(process.env.E2E_PORT ?? 3210),
  realtimeA: Number(process.env.E2E_REALTIME_PORT ?? 6201),
  webB: Number(process.env.E2E_PORT_B ?? 3211),
  realtimeB: Number(process.env.E2E_REALTIME_PORT_B ?? 6202),
};
export const clusterRedisPrefix = `floorline-e2e:${process.pid}:`;
export const clusterUrls = { a: `http://localhost:${ports.webA}`, b: `http://localhost:${ports.webB}` };

const database = process.env.TEST_DATABASE_URL;
/**
 * The config is read again in each test worker, so the secrets both instances share (and the
 * spec signs HTTP API calls with) must come out the same there: derived from the run's database.
 */
const derived = (name: string) =>
  createHash("sha256")
    .update(`floorline-e2e-cluster:${name}:${database ?? ""}`)
    .digest("hex");
export const clusterRealtime = {
  appId: "floorline",
  key: "floorline-key",
  secret: derived("pusher"),
  portA: ports.realtimeA,
};
// The main suite's settings (database, its deployment secrets, limits), the same for both instances.
const mainEnv = (base.webServer as { env?: Record<string, string> } | undefined)?.env ?? {};
const shared = {
  ...mainEnv,
  PUSHER_SECRET: clusterRealtime.secret,
  BETTER_AUTH_SECRET: derived("auth"),
  REALTIME_ADAPTER: "redis",
  REDIS_URL: process.env.TEST_REDIS_URL ?? "redis://127.0.0.1:6379",
  // Keys of this run only, on a Redis that others may share. The config is read more than once
  // in the runner's process, so the prefix must be the same each time: the process id.
  REDIS_PREFIX: clusterRedisPrefix,
};
const instance = (web: number, realtime: number) => ({
  command: "npm start",
  url: `http://localhost:${web}/sign-in`,
  timeout: 600_000,
  reuseExistingServer: false,
  stdout: "pipe" as const,
  stderr: "pipe" as const,
  env: { ...shared, PORT: String(web), APP_URL: `http://localhost:${web}`, REALTIME_PORT: String(realtime) },
});

export default defineConfig({
  ...base,
  testDir: "e2e-cluster",
  globalTeardown: "./e2e-cluster/teardown.ts",
  projects: [{ name: "cluster", use: base.projects?.[0]?.use ?? {} }],
  use: { ...base.use, baseURL: clusterUrls.a },
  // Started one after the other: the first applies the migrations, the second finds them done.
  webServer: database ? [instance(ports.webA, ports.realtimeA), instance(ports.webB, ports.realtimeB)] : [],
});
