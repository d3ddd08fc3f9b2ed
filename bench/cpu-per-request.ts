/**
 * `npx tsx bench/cpu-per-request.ts`: the web process's CPU per request (utime + stime from
 * /proc/<pid>/stat, Linux) for `chat.me`, `chat.send` and `staff.reply` on the private stack: 32
 * signed-in players (and, for the replies, 32 staff members each holding one of their chats) in a closed loop after a warm-up of 2,000 requests, then one request at a time (round
 * trips, and CPU per request again). A busy machine starves the web process, which then handles
 * fewer requests per wake-up and spends more CPU on each: compare runs back to back at the same
 * load (printed). Settings: BENCH_PORT_BASE (default 6261), REQUESTS per round (3000), ROUNDS
 * (2), SEQUENTIAL (1000), ONLY=chat.me|chat.send|staff.reply|realtime.auth, PROBE=1 (load bench/probe.mjs into
 * the web process as `npm run bench` does, to measure what the probe itself costs; its log's path
 * and line count are printed at the end). GC=1 also runs the web process with
 * `--trace-gc-nvp` and prints, for each measured loop, the bytes V8 allocated per request (the sum of
 * each GC's `allocated=`, what was allocated since the GC before: so within one GC's worth) and the
 * scavenges and mark-compacts per 1,000 requests. PROFILE=<dir> writes a `--cpu-prof` profile of the
 * web process there when it stops; PROFILE_INTERVAL=<µs> samples it that often instead of every 1,000
 * µs (a lone request is one or two samples at the default).
 *
 * PACED=<players> (e.g. 100) adds, for `chat.me` and `chat.send`, what `npm run bench`'s latency
 * scenario does instead of a closed loop: that many signed-in players each make the request once a
 * second, the n-th starting n × (1000 / PACED) ms after the first (bench/path.ts, scenario 1), for
 * PACED_SECONDS (20), PACED_ROUNDS (2) times, each round after one more closed-loop round of the same
 * request so the two alternate in one process. Each line gives the web process's CPU per request,
 * split by thread (/proc/<pid>/task/<tid>/stat; `main` is the JavaScript thread, the rest are V8's
 * GC and compiler helpers, libuv's pool and Node's own, by name), the round trips, and, once before
 * the paced rounds, what the process spends idle (IDLE_SECONDS, 5, with no request at all: its
 * timers and background work, ms of CPU per second).
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { connectPostgres } from "@/db/client";
import { STAFF_CHANNEL } from "@/protocol/channels";
import { claimRequest } from "@/server/chat/assignment";
import { sendPlayerMessage } from "@/server/chat/send";
import { startStack } from "../tests/support/stack";
import { probeFiles, request, type Session, sleep, stats, trpcPost } from "./path";
import { statCpuMs } from "./scenarios";
import { signedInPlayers, signedInStaff } from "./signed-in-players";

const requests = Number(process.env.REQUESTS ?? 3000);
const rounds = Number(process.env.ROUNDS ?? 2);
const sequential = Number(process.env.SEQUENTIAL ?? 1000);
const probes = process.env.PROBE === "1" ? probeFiles() : null;
const traceGc = process.env.GC === "1";
const paced = Number(process.env.PACED ?? 0);
const pacedSeconds = Number(process.env.PACED_SECONDS ?? 20);
const pacedRounds = Number(process.env.PACED_ROUNDS ?? 2);
const idleSeconds = Number(process.env.IDLE_SECONDS ?? 5);
const stack = await startStack(
  Number(process.env.BENCH_PORT_BASE ?? 6261),
  { PLAYER_SEND_PER_SECOND: "0", ...probes?.env("web") },
  [
    ...(traceGc ? ["--trace-gc-nvp"] : []),
    ...(process.env.PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.PROFILE}`] : []),
    ...(process.env.PROFILE && process.env.PROFILE_INTERVAL
      ? [`--cpu-prof-interval=${process.env.PROFILE_INTERVAL}`]
      : []),
  ],
);
/** What V8 reported of its GCs since the last `gcSince()`: `--trace-gc-nvp` writes one line per GC. */
const gcs = { allocated: 0, scavenges: 0, markCompacts: 0 };
stack.web.lineListeners.add((line) => {
  const kind = /\bgc=(\S+)/.exec(line)?.[1];
  if (!kind) return;
  gcs.allocated += Number(/\ballocated=(\d+)/.exec(line)?.[1] ?? 0);
  if (kind === "s") gcs.scavenges++;
  else if (kind === "mc" || kind === "ms") gcs.markCompacts++;
});
const gcSince = () => {
  const taken = { ...gcs };
  gcs.allocated = gcs.scavenges = gcs.markCompacts = 0;
  return taken;
};
const gcPer = (n: number, taken: typeof gcs) =>
  traceGc
    ? {
        kbAllocatedPerRequest: +(taken.allocated / 1024 / n).toFixed(1),
        scavengesPer1000: +((1000 * taken.scavenges) / n).toFixed(1),
        markCompactsPer1000: +((1000 * taken.markCompacts) / n).toFixed(2),
      }
    : {};
const pid = stack.web.pid;
if (!pid) throw new Error("the web process is not running");
/** CPU milliseconds the web process has used (utime + stime). */
const cpuMs = () => statCpuMs(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
/** The same per thread, summed by the thread's name (`main` for the JavaScript thread). */
const threadCpuMs = () => {
  const byName: Record<string, number> = {};
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    } catch {
      continue; // the thread ended meanwhile
    }
    const name = Number(tid) === pid ? "main" : stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
    byName[name] = (byName[name] ?? 0) + statCpuMs(stat);
  }
  return byName;
};
/**
 * With PROFILE, each closed-loop, one-at-a-time and paced line also gives its span on the monotonic clock (µs), the
 * clock of the profile's `startTime` and `timeDeltas`, so a profile can be cut into the phases.
 */
const monotonicUs = () => Number(process.hrtime.bigint() / 1000n);
const spanSince = (from: number) => (process.env.PROFILE ? { spanUs: [from, monotonicUs()] } : {});
/** CPU ms per request of each thread name between two `threadCpuMs()` readings. */
const perThread = (from: Record<string, number>, to: Record<string, number>, n: number) =>
  Object.fromEntries(
    Object.entries(to)
      .map(([name, ms]) => [name, +((ms - (from[name] ?? 0)) / n).toFixed(3)] as const)
      .filter(([, ms]) => ms > 0),
  );
/**
 * What the web process spends from now on, for every measured loop below: `per(n)` gives CPU ms per
 * request in all and by thread, GC per request (GC=1) and, with PROFILE, the span.
 */
const meter = () => {
  gcSince();
  const threads = threadCpuMs();
  const cpu = cpuMs();
  const span = monotonicUs();
  return (n: number) => ({
    cpuMsPerRequest: +((cpuMs() - cpu) / n).toFixed(3),
    threads: perThread(threads, threadCpuMs(), n),
    ...gcPer(n, gcSince()),
    ...spanSince(span),
  });
};
const handle = connectPostgres(stack.postgres.url, 4);
/** The i-th request; `from` the players it is made as (default: the 32 of the closed loop). */
type Call = (i: number, from?: Session[]) => Promise<{ status: number }>;
const post = (procedure: string, session: Session, json: unknown) =>
  trpcPost(stack.url, procedure, session.cookie, json);
try {
  const players = await signedInPlayers(stack, handle.db, Math.max(32, paced), "cpu");
  const sessions = players.slice(0, 32);
  const staffSessions = await signedInStaff(stack, handle.db, 32, "cpu-staff");
  const at = <T>(list: T[], i: number) => list[i % list.length] as T;
  // Staff member i holds player i's chat: every measured reply is one its sender may make.
  const chats: string[] = [];
  for (const [i, member] of staffSessions.entries()) {
    const player = { userId: at(sessions, i).userId };
    const sent = await sendPlayerMessage(handle.db, { id: randomUUID(), text: "help", player });
    await claimRequest(handle.db, { requestId: sent.request.id, staff: member });
    chats.push(sent.request.id);
  }
  const calls: [string, Call][] = [
    [
      "chat.me",
      (i, from = sessions) => request(`${stack.url}/api/trpc/chat.me`, { headers: { cookie: at(from, i).cookie } }),
    ],
    ["chat.send", (i, from = sessions) => post("chat.send", at(from, i), { id: randomUUID(), text: "measured" })],
    [
      "staff.reply",
      (i) => post("staff.reply", at(staffSessions, i), { requestId: at(chats, i), id: randomUUID(), text: "measured" }),
    ],
    // A channel authorization as pusher-js asks for one (the reconnect storm's first request per channel).
    [
      "realtime.auth",
      (i) =>
        request(`${stack.url}/api/realtime/auth`, {
          method: "POST",
          headers: { cookie: at(staffSessions, i).cookie, "content-type": "application/x-www-form-urlencoded" },
          body: `socket_id=1234.5678&channel_name=${STAFF_CHANNEL}`,
        }),
    ],
  ];
  const closedLoop = async (n: number, call: Call) => {
    let left = n;
    let failed = 0;
    const per = meter();
    const started = performance.now();
    await Promise.all(
      sessions.map(async (_, i) => {
        while (left-- > 0) if ((await call(i)).status !== 200) failed++;
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    return {
      requests: n,
      failed,
      perSecond: Math.round(n / seconds),
      ...per(n),
      load: os.loadavg().map((x) => x.toFixed(2)),
    };
  };
  /**
   * PACED players, each making the request once a second for PACED_SECONDS, started 1000 / PACED
   * ms apart: the latency scenario's pacing (bench/path.ts).
   */
  const pacedLoop = async (call: Call) => {
    const from = players.slice(0, paced);
    const times: number[] = [];
    let failed = 0;
    const per = meter();
    const started = performance.now();
    const until = started + pacedSeconds * 1000;
    await Promise.all(
      from.map(async (_, i) => {
        await sleep((i * 1000) / paced);
        for (let next = performance.now(); next < until; next += 1000) {
          const t = performance.now();
          if ((await call(i, from)).status !== 200) failed++;
          times.push(performance.now() - t);
          await sleep(Math.max(0, next + 1000 - performance.now()));
        }
      }),
    );
    const n = times.length;
    return {
      requests: n,
      failed,
      perSecond: Math.round(n / ((performance.now() - started) / 1000)),
      roundTripMs: stats(times),
      ...per(n),
      load: os.loadavg().map((x) => x.toFixed(2)),
    };
  };
  /** The web process with no request at all: ms of CPU per second, by thread. */
  const idle = async () => {
    const threads = threadCpuMs();
    const cpu = cpuMs();
    await sleep(idleSeconds * 1000);
    return {
      seconds: idleSeconds,
      cpuMsPerSecond: +((cpuMs() - cpu) / idleSeconds).toFixed(2),
      threads: perThread(threads, threadCpuMs(), idleSeconds),
      load: os.loadavg().map((x) => x.toFixed(2)),
    };
  };
  for (const [name, call] of calls) {
    if (process.env.ONLY && process.env.ONLY !== name) continue;
    await closedLoop(2000, call); // warm-up: JIT, pool, prepared statements
    for (let r = 0; r < rounds; r++)
      console.log(name, "32 concurrent", JSON.stringify(await closedLoop(requests, call)));
    // One at a time: each request's CPU alone, without the batching a busy process gets (a busy
    // machine starves the loop above and so changes its CPU per request; this changes less).
    const times: number[] = [];
    const per = meter();
    for (let i = 0; i < sequential; i++) {
      const started = performance.now();
      await call(i);
      times.push(performance.now() - started);
    }
    console.log(name, "sequential", JSON.stringify({ roundTripMs: stats(times), ...per(sequential) }));
    if (!paced || name === "staff.reply") continue;
    console.log(name, "idle", JSON.stringify(await idle()));
    for (let r = 0; r < pacedRounds; r++) {
      console.log(name, "32 concurrent", JSON.stringify(await closedLoop(requests, call)));
      console.log(name, `paced ${paced} × 1/s`, JSON.stringify(await pacedLoop(call)));
    }
  }
} finally {
  await handle.close();
  await stack.stop();
  if (probes) {
    const file = probes.file("web");
    const lines = fs.existsSync(file) ? fs.readFileSync(file, "utf8").split("\n").length - 1 : 0;
    console.log("probe", JSON.stringify({ file, lines }));
  }
}
