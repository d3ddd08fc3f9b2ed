/**
 * What an idle subscribed socket costs our realtime server: SOCKETS raw WebSocket clients, each
 * subscribed to its own private channel (a player's), or all to one channel named by CHANNEL (as
 * staff share `private-staff-portal`), against `server/realtime/main.ts` in its own process. Reports the server's resident memory before and after (per socket), the time to
 * connect them all, and its CPU while they sit idle for IDLE_SECONDS.
 *
 *   npx tsx bench/sockets.ts
 *   SOCKETS=10000 IDLE_SECONDS=10 BENCH_REALTIME_PORT=6801 npx tsx bench/sockets.ts
 *   CHANNEL=private-staff-portal npx tsx bench/sockets.ts
 */
import type { ChildProcess } from "node:child_process";
import fs from "node:fs";
import { performance } from "node:perf_hooks";
import type WebSocket from "ws";
import { socket, startRealtime } from "./realtime";

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const SOCKETS = num("SOCKETS", 10_000);
const IDLE_SECONDS = num("IDLE_SECONDS", 10);
const PORT = num("BENCH_REALTIME_PORT", 6801);
const CONCURRENCY = 200;
/** One channel for every socket, or (unset) a channel of its own each. */
const CHANNEL = process.env.CHANNEL || undefined;

/** The server is `tsx` → node; the node process holding the port is its only child. */
function serverPid(tsx: ChildProcess): number {
  const children = fs.readFileSync(`/proc/${tsx.pid}/task/${tsx.pid}/children`, "utf8").trim().split(/\s+/);
  return Number(children.at(-1) || tsx.pid);
}

const rssBytes = (pid: number) =>
  Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"))?.[1] ?? NaN) * 1024;

/** utime + stime in clock ticks (100 per second on Linux). */
function cpuTicks(pid: number) {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return Number(fields[11]) + Number(fields[12]);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const tsx = await startRealtime(PORT, SOCKETS + 100);
  await sleep(1000);
  const pid = serverPid(tsx);
  const rssBefore = rssBytes(pid);

  const sockets: WebSocket[] = [];
  const started = performance.now();
  for (let i = 0; i < SOCKETS; i += CONCURRENCY) {
    const batch = [];
    for (let j = i; j < Math.min(SOCKETS, i + CONCURRENCY); j++)
      batch.push(socket(PORT, CHANNEL ?? `private-player-${j}`));
    sockets.push(...(await Promise.all(batch)));
  }
  const connectSeconds = (performance.now() - started) / 1000;

  await sleep(2000);
  const rssAfter = rssBytes(pid);
  const ticks = cpuTicks(pid);
  await sleep(IDLE_SECONDS * 1000);
  const idleCpuPercent = ((cpuTicks(pid) - ticks) / 100 / IDLE_SECONDS) * 100;

  console.log(
    JSON.stringify(
      {
        sockets: sockets.length,
        channels: CHANNEL ?? "one private channel each",
        connectSeconds: +connectSeconds.toFixed(2),
        rssBeforeMB: +(rssBefore / 2 ** 20).toFixed(1),
        rssAfterMB: +(rssAfter / 2 ** 20).toFixed(1),
        perSocketKB: +((rssAfter - rssBefore) / sockets.length / 1024).toFixed(2),
        idleSeconds: IDLE_SECONDS,
        idleCpuPercent: +idleCpuPercent.toFixed(2),
      },
      null,
      2,
    ),
  );
  for (const s of sockets) s.terminate();
  tsx.kill("SIGTERM");
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
