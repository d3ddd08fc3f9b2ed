/**
 * `npx tsx bench/profile-send.ts [seconds]`: a V8 CPU profile of the web process while signed-in
 * players send `chat.send` in a closed loop (SENDERS at once, default 32; 1 = the sequential round
 * trip) on the private stack, then the functions
 * with the most self time. The profile is written to bench/results/profiles/ (open it in Chrome
 * DevTools or speedscope). Server bundles are minified: for readable frames build with
 * `experimental.serverMinification: false` first. Ports: BENCH_PORT_BASE (default 6261).
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { connectPostgres } from "@/db/client";
import { startStack } from "../tests/support/stack";
import { printTopSelfTime } from "./cpu-profile";
import { request } from "./path";
import { signedInPlayers } from "./signed-in-players";

const seconds = Number(process.argv[2] ?? 15);
const startedAt = Date.now();
const dir = path.join(import.meta.dirname, "results", "profiles");
fs.mkdirSync(dir, { recursive: true });
const scratch = fs.mkdtempSync("/var/tmp/floorline-profile-");
fs.chmodSync(scratch, 0o755);
process.env.TMPDIR = scratch;
const stack = await startStack(
  Number(process.env.BENCH_PORT_BASE ?? 6261),
  { PLAYER_SEND_PER_SECOND: "100000", PLAYER_SEND_BURST: "100000" },
  ["--cpu-prof", `--cpu-prof-dir=${dir}`],
);
const handle = connectPostgres(stack.postgres.url, 4);
try {
  const sessions = await signedInPlayers(stack, handle.db, 32, "profile");
  let sent = 0;
  const until = Date.now() + seconds * 1000;
  await Promise.all(
    sessions.slice(0, Number(process.env.SENDERS ?? 32)).map(async (s) => {
      while (Date.now() < until) {
        const res = await request(`${stack.url}/api/trpc/chat.send`, {
          method: "POST",
          headers: { cookie: s.cookie, "content-type": "application/json", origin: stack.url },
          body: JSON.stringify({ json: { id: randomUUID(), text: "profiled" } }),
        });
        if (res.status === 200) sent++;
      }
    }),
  );
  console.log(`${sent} sends in ${seconds} s (${Math.round(sent / seconds)}/s)`);
} finally {
  await handle.close();
  await stack.stop();
  fs.rmSync(scratch, { recursive: true, force: true });
}

printTopSelfTime(dir, startedAt, 25);
