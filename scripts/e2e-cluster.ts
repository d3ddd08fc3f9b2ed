/**
 * `npm run e2e:cluster`: the cluster e2e (two web instances, two realtime nodes on Redis) on a
 * database of its own, made next to TEST_DATABASE_URL and dropped afterwards. Its own database
 * because the main suite leaves the demo players' chats held by other staff members.
 */
import { spawnSync } from "node:child_process";
import pg from "pg";

const base = process.env.TEST_DATABASE_URL;
if (!base) {
  console.log("[e2e:cluster] TEST_DATABASE_URL is not set: the cluster needs Postgres; not run.");
  process.exit(0);
}

const url = new URL(base);
const name = `${url.pathname.slice(1)}_cluster`.replace(/[^A-Za-z0-9_]/g, "_");
const admin = new URL(base);
admin.pathname = "/postgres";

async function onServer(sql: string) {
  const client = new pg.Client({ connectionString: admin.toString() });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

await onServer(`drop database if exists "${name}" with (force)`);
await onServer(`create database "${name}"`);
url.pathname = `/${name}`;
const run = spawnSync("npx", ["playwright", "test", "-c", "playwright.cluster.config.ts", ...process.argv.slice(2)], {
  stdio: "inherit",
  env: { ...process.env, TEST_DATABASE_URL: url.toString() },
});
await onServer(`drop database if exists "${name}" with (force)`);
process.exit(run.status ?? 1);
