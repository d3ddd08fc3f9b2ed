/**
 * `BASE=/path/to/other/checkout npx tsx bench/first-request.ts`: the very first signed-in request
 * after a web start, both builds in one run. Two private stacks (tests/support/stack.ts, each the
 * production build of its checkout: A from BASE, B from this one, as bench/ab.ts), one signed-in
 * player and one staff member on each, signed in before the restarts as a real club's people are.
 * Then RESTARTS (6) rounds: in each, each side's web process is restarted (SIGTERM, then started as
 * `npm start` runs it, its warm-up done before it listens; B first in odd rounds), left until it is
 * quiet (the readiness check's page finishes rendering; SETTLE=0 does not wait), and each of KINDS
 * (`chat.me,/staff`: the player's tRPC read, the staff page; `thread.page`: the player's latest 50
 * of a thread of 120 as the staff member reads it, REST) is sent once, alone, in that order — the
 * first is the first signed-in request of the process — then WARM (5) more of each. Prints per side
 * and kind each first request's round trip, its server time (`Server-Timing`, API routes only) and
 * the web process's CPU over it (`taskCpuMs`: all its threads, so a compiler thread's work then
 * counts), the warm requests' median round trip and server time p50 / p99 (all starts together,
 * and per start: WARM=1000 is the bench's first pass of thread pages), and the load average at each restart.
 * BENCH_PORT_BASE (default 6261): A's Postgres, +1 realtime, +2 web; B's the same from +5.
 */
import { randomUUID } from "node:crypto";
import { sendPlayerMessage } from "@/server/chat/send";
import { request, serverTiming, stats } from "./path";
import { taskCpuMs } from "./scenarios";
import { fillThread, load, type Side, twoBuilds } from "./two-builds";

const restarts = Number(process.env.RESTARTS ?? 6);
const warm = Number(process.env.WARM ?? 5);
const kinds = (process.env.KINDS ?? "chat.me,/staff").split(",");
/** SETTLE=0: send the first request as soon as the readiness check answers (how it was measured before). */
const settle = process.env.SETTLE !== "0";

/** Each side's player id whose thread `thread.page` reads (filled to 120 messages first). */
const threadOf = new Map<string, number>();

/** A kind's request: a tRPC query as the player, a page as the staff member, or `thread.page`. */
function call(side: Side, kind: string) {
  if (kind === "thread.page")
    return request(`${side.stack.url}/api/player-chat-integration/messages/${threadOf.get(side.name)}`, {
      headers: { cookie: side.member.cookie },
    });
  if (kind.startsWith("/")) return request(`${side.stack.url}${kind}`, { headers: { cookie: side.member.cookie } });
  const cookie = kind.startsWith("staff.") ? side.member.cookie : side.player.cookie;
  return request(`${side.stack.url}/api/trpc/${kind}`, { headers: { cookie } });
}

/**
 * Until the web process has used under 0.3 ms of CPU in each of two 25 ms spans (at most 3 s): the
 * readiness check (tests/support/stack.ts) returns at the headers of its `/sign-in`, whose render
 * and gzip then go on; before this wait they ran during the first request and were counted as its
 * CPU (0.2–35 ms, "The first signed-in request after a start, taken apart" in bench/README.md).
 */
async function quiet(pid: number | undefined) {
  const until = performance.now() + 3000;
  let calm = 0;
  while (calm < 2 && performance.now() < until) {
    const cpu = taskCpuMs(pid);
    await new Promise((resolve) => setTimeout(resolve, 25));
    calm = taskCpuMs(pid) - cpu < 0.3 ? calm + 1 : 0;
  }
}

const { sides, stopAll } = await twoBuilds("first");
if (kinds.includes("thread.page"))
  for (const side of sides) {
    const opened = await sendPlayerMessage(side.handle.db, { id: randomUUID(), text: "help", player: side.player });
    await fillThread(side.handle.db, opened.request, 120);
    threadOf.set(side.name, opened.request.playerId);
  }
type Sample = { rtt: number; server: number | null; cpuMs: number; load: string[] };
const firsts: Record<string, Sample[]> = {};
const warms: Record<string, number[]> = {};
const warmServer: Record<string, number[]> = {};
/** The list kept under `key`, made empty the first time. */
const listOf = <T>(lists: Record<string, T[]>, key: string) => {
  lists[key] ??= [];
  return lists[key];
};
try {
  for (let round = 0; round < restarts; round++) {
    for (const side of round % 2 ? [...sides].reverse() : sides) {
      await side.stack.web.kill("SIGTERM");
      await side.stack.web.start();
      if (settle) await quiet(side.stack.web.pid);
      const at = load();
      for (const kind of kinds) {
        const cpu = taskCpuMs(side.stack.web.pid);
        const t = performance.now();
        const reply = await call(side, kind);
        const rtt = +(performance.now() - t).toFixed(2);
        const cpuMs = +(taskCpuMs(side.stack.web.pid) - cpu).toFixed(2);
        if (reply.status !== 200) throw new Error(`${kind} on ${side.name}: HTTP ${reply.status} ${reply.body}`);
        listOf(firsts, `${kind} ${side.name}`).push({ rtt, server: serverTiming(reply), cpuMs, load: at });
      }
      for (const kind of kinds)
        for (let i = 0; i < warm; i++) {
          const t = performance.now();
          const reply = await call(side, kind);
          listOf(warms, `${kind} ${side.name}`).push(performance.now() - t);
          const server = serverTiming(reply);
          if (server !== null) listOf(warmServer, `${kind} ${side.name}`).push(server);
        }
    }
  }
  for (const kind of kinds)
    for (const name of ["A", "B"]) {
      const key = `${kind} ${name}`;
      const samples = firsts[key] ?? [];
      console.log(
        key,
        JSON.stringify({
          firstRtt: samples.map((s) => s.rtt),
          firstServer: samples.map((s) => s.server),
          firstCpuMs: samples.map((s) => s.cpuMs),
          firstRttP50: stats(samples.map((s) => s.rtt)).p50,
          firstCpuP50: stats(samples.map((s) => s.cpuMs)).p50,
          warmRttP50: stats(warms[key] ?? []).p50,
          // The WARM requests after each start, together: with WARM=1000, the bench's first pass.
          warmServerP50: warmServer[key]?.length ? stats(warmServer[key]).p50 : null,
          warmServerP99: warmServer[key]?.length ? stats(warmServer[key]).p99 : null,
          warmServerP99PerStart: warmServer[key]?.length
            ? Array.from(
                { length: restarts },
                (_, r) => stats((warmServer[key] ?? []).slice(r * warm, (r + 1) * warm)).p99,
              )
            : null,
          loads: samples.map((s) => s.load[0]),
        }),
      );
    }
  console.log("end", JSON.stringify({ at: new Date().toISOString(), load: load() }));
} finally {
  await stopAll();
}
