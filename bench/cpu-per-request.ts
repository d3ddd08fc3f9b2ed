/**
 * `npx tsx bench/cpu-per-request.ts`: the web process's CPU per request (utime + stime from
 * /proc/<pid>/stat, Linux) for `chat.me`, `chat.send` and `staff.reply` on the private stack: 32
 * signed-in players (and, for the replies, 32 staff members each holding one of their chats) in a closed loop after a warm-up of 2,000 requests, then one request at a time (round
 * trips, and CPU per request again). A busy machine starves the web process, which then handles
 * fewer requests per wake-up and spends more CPU on each: compare runs back to back at the same
 * load (printed). Settings: BENCH_PORT_BASE (default 6261), REQUESTS per round (3000), ROUNDS
 * (2), SEQUENTIAL (1000), ONLY=chat.me|chat.send|staff.reply, PROBE=1 (load bench/probe.mjs into
 * the web process as `npm run bench` does, to measure what the probe itself costs; its log's path
 * and line count are printed at the end). GC=1 also runs the web process with
 * `--trace-gc-nvp` and prints, for each measured loop, the bytes V8 allocated per request (the sum of
 * each GC's `allocated=`, what was allocated since the GC before: so within one GC's worth) and the
 * scavenges and mark-compacts per 1,000 requests. PROFILE=<dir> writes a `--cpu-prof` profile of the
 * web process there when it stops.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { connectPostgres } from "@/db/client";
import { claimRequest } from "@/server/chat/assignment";
import { sendPlayerMessage } from "@/server/chat/send";
import { startStack } from "../tests/support/stack";
import { probeFiles, request, type Session, stats } from "./path";
import { signedInPlayers, signedInStaff } from "./signed-in-players";

const requests = Number(process.env.REQUESTS ?? 3000);
const rounds = Number(process.env.ROUNDS ?? 2);
const sequential = Number(process.env.SEQUENTIAL ?? 1000);
const probes = process.env.PROBE === "1" ? probeFiles() : null;
const traceGc = process.env.GC === "1";
const stack = await startStack(
  Number(process.env.BENCH_PORT_BASE ?? 6261),
  { PLAYER_SEND_PER_SECOND: "0", ...probes?.env("web") },
  [
    ...(traceGc ? ["--trace-gc-nvp"] : []),
    ...(process.env.PROFILE ? ["--cpu-prof", `--cpu-prof-dir=${process.env.PROFILE}`] : []),
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
/** CPU milliseconds the web process has used: utime + stime, fields 14 and 15 (after the name). */
const cpuMs = () => {
  const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ is 100 on Linux
};
const handle = connectPostgres(stack.postgres.url, 4);
type Call = (i: number) => Promise<{ status: number }>;
const post = (procedure: string, session: Session, json: unknown) =>
  request(`${stack.url}/api/trpc/${procedure}`, {
    method: "POST",
    headers: { cookie: session.cookie, "content-type": "application/json", origin: stack.url },
    body: JSON.stringify({ json }),
  });
try {
  const sessions = await signedInPlayers(stack, handle.db, 32, "cpu");
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
    ["chat.me", (i) => request(`${stack.url}/api/trpc/chat.me`, { headers: { cookie: at(sessions, i).cookie } })],
    ["chat.send", (i) => post("chat.send", at(sessions, i), { id: randomUUID(), text: "measured" })],
    [
      "staff.reply",
      (i) => post("staff.reply", at(staffSessions, i), { requestId: at(chats, i), id: randomUUID(), text: "measured" }),
    ],
  ];
  const closedLoop = async (n: number, call: Call) => {
    let left = n;
    let failed = 0;
    gcSince();
    const cpu = cpuMs();
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
      cpuMsPerRequest: +((cpuMs() - cpu) / n).toFixed(3),
      ...gcPer(n, gcSince()),
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
    gcSince();
    const cpu = cpuMs();
    for (let i = 0; i < sequential; i++) {
      const started = performance.now();
      await call(i);
      times.push(performance.now() - started);
    }
    const cpuMsPerRequest = +((cpuMs() - cpu) / sequential).toFixed(3);
    const gc = gcPer(sequential, gcSince());
    console.log(name, "sequential", JSON.stringify({ roundTripMs: stats(times), cpuMsPerRequest, ...gc }));
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
