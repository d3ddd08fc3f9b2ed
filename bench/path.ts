/**
 * The path a message really takes, measured end to end: the production web server (`next start`)
 * on Postgres, players signed in through /api/auth/sign-in/email sending `chat.send` over HTTP
 * with their cookies, staff sockets authorized through /api/realtime/auth, our realtime server —
 * next to baselines taken in the same run on the same machine (bare node:http + INSERT + ws, a
 * static file and anonymous tRPC from the same Next server, an authenticated read). Loopback only,
 * bounded load. `npm run bench [-- --quick]` prints the table; see bench/README.md.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import os from "node:os";
import path from "node:path";
import { performance } from "node:perf_hooks";
import { hashPassword } from "better-auth/crypto";
import { eq, sql } from "drizzle-orm";
import pg from "pg";
import WebSocket from "ws";
import { connectPostgres, rowsOf } from "@/db/client";
import { account, players, staff, user } from "@/db/schema";
import { playerChannel, STAFF_CHANNEL } from "@/protocol/channels";
import { IDLE_SOCKET_MS } from "@/server/realtime/publisher";
import { type Stack, startStack } from "../tests/support/stack";
// @ts-expect-error plain JS (the realtime bundle loads it without tsx), no types
import { startProbe } from "./probe.mjs";
import { medianParts, partsOf, type RequestParts, requestLinesFor, showParts } from "./request-parts";
import {
  arrivalLog,
  cpuSeconds,
  type FanOutResult,
  fanOut,
  floorSockets as floorSocketsOf,
  manySockets,
  reconnectStorm,
  roomForSockets,
  staffToPlayer,
} from "./scenarios";
import { processSummary, readProbe, tailLines, tails } from "./tails";

export type BenchOptions = {
  basePort: number;
  /** Sockets connected during the latency scenario (staff + players + idle). */
  clients: number;
  staff: number;
  senders: number;
  /** Latency scenario length; the first `warmSeconds` are reported apart. */
  seconds: number;
  warmSeconds: number;
  /** Closed-loop sender counts and seconds per step. */
  throughput: number[];
  throughputSeconds: number;
  baselineSeconds: number;
  /** Sequential round trips per measured request kind. */
  roundTrips: number;
  /** Sockets authorized through the app (staff channel), then the fan-out's subscribers. */
  manySockets: number;
  fanOutRounds: number;
  /** Clients of the reconnect storm (players on their channels, one in a hundred staff). */
  stormClients: number;
  /** Messages in the history scenario (over `historyPlayers` players, 100 open chats). */
  historyMessages: number;
  historyPlayers: number;
  log?: (line: string) => void;
};

export const FULL: Omit<BenchOptions, "basePort"> = {
  clients: 1000,
  staff: 10,
  senders: 100,
  seconds: 120,
  warmSeconds: 60,
  throughput: [8, 32, 64],
  throughputSeconds: 15,
  baselineSeconds: 5,
  roundTrips: 200,
  manySockets: 10_000,
  fanOutRounds: 20,
  stormClients: 1000,
  historyMessages: 1_000_000,
  historyPlayers: 10_000,
};

export const QUICK: Omit<BenchOptions, "basePort"> = {
  ...FULL,
  seconds: 20,
  warmSeconds: 10,
  throughputSeconds: 5,
  baselineSeconds: 3,
  roundTrips: 100,
  manySockets: 1000,
  fanOutRounds: 20,
  historyMessages: 100_000,
  historyPlayers: 1_000,
};

export type Stats = { n: number; p50: number; p99: number; max: number };
export type Row = { scenario: string; value: string; baseline?: string; ratio?: number; target?: string };
export type BenchResult = {
  rows: Row[];
  integrity: Integrity;
  raw: Record<string, unknown>;
};

/**
 * `sent`: sends the server acknowledged. `unanswered`: sends whose request failed (after
 * `request`'s one retry), so the bench cannot know whether the server stored them; never counted
 * as sent or lost. `lost`: acknowledged sends that never reached every staff socket, their ids in
 * `lostIds` (to look for in the run's logs and database). `resentCopies`: second copies of messages
 * whose send the bench itself made twice (not counted as duplicated).
 */
export type Integrity = {
  sent: number;
  unanswered: number;
  /** Why each unanswered send failed ("code: message"). */
  unansweredErrors: string[];
  lost: number;
  lostIds: string[];
  duplicated: number;
  seqGaps: number;
  resentCopies: number;
};

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const PASSWORD = "floorline-bench-password";
// Idle sockets closed before the web server would close them (its 5 s), as the app's publisher does:
// a request written on a socket the server is closing fails, and a send would be counted as never
// answered (1 of 91,431 at d287a33, before this).
export const agent = new http.Agent({ keepAlive: true, maxSockets: 256, timeout: IDLE_SOCKET_MS });

export function stats(values: number[]): Stats {
  const sorted = [...values].sort((a, b) => a - b);
  const at = (p: number) => +(sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN).toFixed(2);
  return { n: sorted.length, p50: at(0.5), p99: at(0.99), max: +(sorted.at(-1) ?? NaN).toFixed(2) };
}

/** `resent`: the first try's connection was reset, so the request went out twice (a send's id keeps it stored once). */
export type Reply = { status: number; body: string; headers: http.IncomingHttpHeaders; resent?: true };

type Init = { method?: string; headers?: Record<string, string>; body?: string };

/**
 * One HTTP request over a keep-alive agent (cheaper for the bench process than fetch), tried once
 * more when a reused connection was reset as the server closed it. Every request here may be
 * repeated: sends carry their id.
 */
/** A tRPC mutation over HTTP, as the portals make it: signed in by `cookie`, from the app's origin. */
export function trpcPost(base: string, procedure: string, cookie: string, json: unknown): Promise<Reply> {
  return request(`${base}/api/trpc/${procedure}`, {
    method: "POST",
    headers: { cookie, "content-type": "application/json", origin: base },
    body: JSON.stringify({ json }),
  });
}

export function request(url: string, init: Init = {}): Promise<Reply> {
  return requestOnce(url, init).catch((err: NodeJS.ErrnoException) => {
    if (err.code !== "ECONNRESET") throw err;
    return requestOnce(url, init).then((reply) => ({ ...reply, resent: true as const }));
  });
}

function requestOnce(url: string, init: Init) {
  return new Promise<Reply>((resolve, reject) => {
    const req = http.request(url, { method: init.method ?? "GET", headers: init.headers, agent }, (res) => {
      let body = "";
      res.setEncoding("utf8");
      res.on("data", (c) => {
        body += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on("error", reject);
    req.end(init.body);
  });
}

/**
 * What became of a send, the one rule every scenario that sends counts by: `acknowledged` (a 2xx:
 * stored), `refused` (answered otherwise: not stored), or `unanswered` (the request itself failed:
 * stored or not, the bench cannot tell; such a send must not be waited for nor counted as lost).
 */
export type Outcome = { kind: "acknowledged" | "refused"; reply: Reply } | { kind: "unanswered"; error: Error };

/** What a failed request says of itself: its error code (ECONNRESET, EPIPE…) and message. */
export function whyUnanswered(error: Error) {
  return `${(error as NodeJS.ErrnoException).code ?? "no code"}: ${error.message}`;
}

export function settle(reply: Promise<Reply>): Promise<Outcome> {
  return reply.then(
    (r): Outcome => ({ kind: r.status >= 200 && r.status < 300 ? "acknowledged" : "refused", reply: r }),
    (error: Error): Outcome => ({ kind: "unanswered", error }),
  );
}

/**
 * One delivery taken apart, ms from the moment the bench started its request: `ack` its answer
 * (null when every socket had the event first), `server` the web process's own time for it
 * (`Server-Timing: app;dur=`, from taking the request to writing the answer), `first` / `last`
 * the first and the last socket to have it; `at` the start in ms since the epoch (to line up with
 * the processes' probe logs, bench/probe.mjs).
 */
export type Parts = { at: number; ack: number | null; server: number | null; first: number; last: number };

/** Each delivery's time, from its parts (the one record a scenario keeps of it). */
export const durations = (parts: Parts[]) => parts.map((p) => p.last);

/** The server's own time from `Server-Timing: app;dur=` (node-bridge.ts), null when absent. */
export function serverTiming(reply: Reply): number | null {
  const dur = /\bapp;dur=([0-9.]+)/.exec(String(reply.headers["server-timing"] ?? ""));
  return dur ? Number(dur[1]) : null;
}

/**
 * Sends awaited on sockets: each id is pending from before its request (an event can beat the
 * answer) until `copies` sockets have it. By `settle`'s rule a refused or unanswered send stops
 * being pending at once, so what is still pending after the drain is acknowledged and lost.
 */
export function deliveries(copies: number) {
  // By socket, not by arrival: a send the bench made twice is published twice, and two copies on
  // one socket must neither count for a socket that has none nor hide that it was lost there.
  type Entry = {
    start: number;
    seen: Set<number>;
    onDone?: (parts: Parts) => void;
    acked?: number;
    server?: number | null;
    first?: number;
  };
  const pending = new Map<string, Entry>();
  const counts = { acknowledged: 0, refused: 0, unanswered: 0 };
  /** Why each unanswered send failed ("code: message"): the count alone cannot tell a run's reader. */
  const unansweredErrors: string[] = [];
  /** `settle`'s rule: only an acknowledged send stays pending (and is lost if no socket has it). */
  const settled = (id: string, kind: Outcome["kind"], error?: string) => {
    counts[kind]++;
    if (error !== undefined) unansweredErrors.push(error);
    if (kind !== "acknowledged") pending.delete(id);
  };
  return {
    counts,
    unansweredErrors,
    async send(id: string, post: () => Promise<Reply>, onDone?: (parts: Parts) => void): Promise<Outcome> {
      const entry: Entry = { start: performance.now(), seen: new Set(), onDone };
      pending.set(id, entry);
      const outcome = await settle(post());
      entry.acked = performance.now();
      if (outcome.kind !== "unanswered") entry.server = serverTiming(outcome.reply);
      settled(id, outcome.kind, outcome.kind === "unanswered" ? whyUnanswered(outcome.error) : undefined);
      return outcome;
    },
    /**
     * A send another process makes (the quiet client, bench/round-trips.mjs): pending from before
     * it is made, like `send`'s, then `settled` by what that process saw. No parts: its times are its own.
     */
    expect(id: string) {
      pending.set(id, { start: performance.now(), seen: new Set() });
    },
    settled,
    /** Socket number `socket` (0 to copies - 1) has message `id` (any other id is ignored). */
    arrived(id: string, socket: number) {
      const entry = pending.get(id);
      if (!entry) return;
      const now = performance.now();
      entry.first ??= now;
      if (entry.seen.add(socket).size === copies) {
        pending.delete(id);
        // An event can beat its answer (the publish is queued before the answer is written): then
        // the answer's time is not known yet and the parts say so (ack null). `last` is the
        // delivery's time: callers keep the parts and take their durations from it.
        const r = (x: number) => +x.toFixed(3);
        entry.onDone?.({
          at: r(performance.timeOrigin + entry.start),
          ack: entry.acked === undefined ? null : r(entry.acked - entry.start),
          server: entry.server ?? null,
          first: r((entry.first as number) - entry.start),
          last: r(now - entry.start),
        });
      }
    },
    /** Waits up to `ms` for every pending send to arrive. */
    drained: (ms = 5000) => waitDrained(pending, ms),
    /** Acknowledged sends still waiting for a socket: lost, once drained. */
    lostIds: () => [...pending.keys()],
  };
}

export type Deliveries = ReturnType<typeof deliveries>;

export type Session = { cookie: string; playerId?: number };

export async function signIn(base: string, email: string): Promise<Session> {
  const res = await request(`${base}/api/auth/sign-in/email`, {
    method: "POST",
    headers: { "content-type": "application/json", origin: base },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  if (res.status !== 200) throw new Error(`sign-in ${email}: HTTP ${res.status} ${res.body}`);
  const cookies = ([] as string[]).concat(res.headers["set-cookie"] ?? []);
  return { cookie: cookies.map((c) => c.split(";")[0]).join("; ") };
}

function trpcSend(base: string, s: Session, id: string, text: string) {
  return request(`${base}/api/trpc/chat.send`, {
    method: "POST",
    headers: { cookie: s.cookie, "content-type": "application/json", origin: base },
    body: JSON.stringify({ json: { id, text } }),
  });
}

/** What we need of a message event, whichever wire format the server speaks (plain or superjson). */
export function messageOf(data: string): { id: string; seq: number; playerId: number } | null {
  const d = JSON.parse(data);
  const m = d.json?.message ?? d.message;
  if (typeof d.id === "string" && typeof d.seq === "number") return { id: d.id, seq: d.seq, playerId: d.playerId };
  if (m && typeof m === "object") return { id: m.id, seq: m.seq, playerId: m.playerId };
  return null;
}

/**
 * A raw Pusher-protocol socket; `authorize` signs the subscription through the app when given.
 * Once subscribed, `onFrame` (when given) takes each frame's text unparsed instead of `onEvent`.
 */
export async function pusherSocket(
  url: string,
  channel: string | null,
  authorize: ((socketId: string) => Promise<string>) | null,
  onEvent?: (event: string, data: string) => void,
  onFrame?: (text: string) => void,
) {
  const ws = new WebSocket(url);
  let ready = false;
  await new Promise<void>((resolve, reject) => {
    ws.once("error", reject);
    // Refused (an over-quota 4004, say) or dropped before it was ready: fail, never wait forever.
    ws.once("close", (code) => reject(new Error(`socket closed (${code}) before it was ready`)));
    ws.on("message", (raw) => {
      if (ready && onFrame) return onFrame(String(raw));
      const msg = JSON.parse(String(raw));
      if (msg.event === "pusher:connection_established") {
        if (!channel || !authorize) return resolve();
        const { socket_id } = JSON.parse(msg.data);
        authorize(socket_id).then(
          (auth) => ws.send(JSON.stringify({ event: "pusher:subscribe", data: { channel, auth } })),
          reject,
        );
      } else if (msg.event === "pusher_internal:subscription_succeeded") {
        ready = true;
        resolve();
      } else if (msg.event === "pusher:subscription_error") reject(new Error(`subscribe ${channel}: ${msg.data}`));
      else onEvent?.(msg.event, msg.data);
    });
  });
  return ws;
}

/** Closed loop: `concurrency` workers call `fn` back to back for `seconds`. */
async function closedLoop(concurrency: number, seconds: number, fn: (worker: number) => Promise<boolean>) {
  const times: number[] = [];
  let failed = 0;
  const started = performance.now();
  const until = started + seconds * 1000;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, w) => {
      while (performance.now() < until) {
        const t = performance.now();
        if (await fn(w).catch(() => false)) times.push(performance.now() - t);
        else failed++;
      }
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  return { perSecond: Math.round(times.length / elapsed), failed, ...stats(times) };
}

/** Sequential round trips: the latency of one request with nothing else in flight. */
async function roundTrips(n: number, fn: () => Promise<boolean>) {
  const times: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    if (!(await fn())) throw new Error("round trip failed");
    times.push(performance.now() - t);
  }
  return stats(times);
}

/**
 * Sequential round trips (`chat.me`, then `chat.send`) from a client that does nothing else while
 * it measures: a child process (bench/round-trips.mjs) with the player's cookie, so neither this
 * process's sockets nor its timers sit between a request and its answer. The sends' ids are this
 * process's, pending in `toStaff` from before the child starts: the staff sockets here still have to
 * get every acknowledged one, or it counts as lost.
 */
export async function quietRoundTrips(o: { base: string; cookie: string; n: number; toStaff: Deliveries }) {
  const sendIds = Array.from({ length: o.n }, () => randomUUID());
  for (const id of sendIds) o.toStaff.expect(id);
  const child = spawn(process.execPath, [path.join(import.meta.dirname, "round-trips.mjs")], {
    env: process.env,
    stdio: ["pipe", "pipe", "inherit"],
  });
  let out = "";
  child.stdout?.on("data", (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  child.stdin?.end(JSON.stringify({ base: o.base, cookie: o.cookie, n: o.n, sendIds }));
  const code = await exited;
  if (code !== 0) throw new Error(`round trips: the quiet client exited ${code}`);
  type Sent = { id: string; kind: Outcome["kind"]; error?: string; resent?: true };
  const trips = JSON.parse(out) as { me: number[]; send: number[]; outcomes: Sent[] };
  const made = new Set(trips.outcomes.map((s) => s.id));
  for (const s of trips.outcomes) o.toStaff.settled(s.id, s.kind, s.error);
  for (const id of sendIds) if (!made.has(id)) o.toStaff.settled(id, "refused"); // never made: not pending
  if (trips.me.length < o.n || trips.outcomes.some((s) => s.kind !== "acknowledged") || trips.send.length < o.n)
    throw new Error("round trip failed");
  return {
    meTrip: stats(trips.me),
    sendTrip: stats(trips.send),
    resent: trips.outcomes.filter((s) => s.resent).map((s) => s.id),
  };
}

/** The floor server on a free port; resolves with the process and the port it took. */
function startFloor(databaseUrl: string): Promise<{ child: ChildProcess; port: number }> {
  const script = path.join(import.meta.dirname, "floor.ts");
  const child = spawn(process.execPath, ["--import", "tsx", script, "0", databaseUrl], {
    env: process.env,
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    child.stdout?.on("data", (d) => {
      const port = /floor on (\d+)/.exec(String(d))?.[1];
      if (port) resolve({ child, port: Number(port) });
    });
    child.on("exit", (code) => reject(new Error(`floor exited ${code}`)));
  });
}

const ms = (x: number) => `${x} ms`;

/** The p50 and p99 rows of a latency scenario, each next to the floor's in the same run. */
function againstFloor(scenario: string, when: string, measured: Stats, floor: Stats): Row[] {
  return [
    { quantile: "p50", target: "≤ 3×" },
    { quantile: "p99", target: "≤ 25 ms" },
  ].map(({ quantile, target }) => {
    const q = quantile as "p50" | "p99";
    return {
      scenario: `${scenario}, ${q} (${when})`,
      value: ms(measured[q]),
      baseline: `floor ${ms(floor[q])}`,
      ratio: ratio(measured[q], floor[q]),
      target,
    };
  });
}
const ratio = (a: number, b: number) => +(a / b).toFixed(2);

/** A probe log per process (bench/probe.mjs), in this run's temp directory. */
export function probeFiles() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "probes-"));
  const file = (name: string) => path.join(dir, `${name}.jsonl`);
  return {
    file,
    env: (name: string) => ({
      NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ""} --import=${path.join(import.meta.dirname, "probe.mjs")}`.trim(),
      BENCH_PROBE_FILE: file(name),
    }),
  };
}

/**
 * A scenario's window: wall-clock span, load average and the web / realtime / bench processes' CPU,
 * then (on `close`) what each process's probe logged in it and each sample group's tails.
 */
function probeWindow(stack: Stack) {
  const from = Date.now();
  const load = os.loadavg()[0] as number;
  const cpu = () => ({
    web: cpuSeconds(stack.web.pid),
    realtime: cpuSeconds(stack.realtime.pid),
    bench: process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6,
  });
  const cpuFrom = cpu();
  return {
    close(probes: ReturnType<typeof probeFiles>, sends: number, groups: Record<string, Parts[]>) {
      const to = Date.now();
      const cpuTo = cpu();
      const logs = Object.fromEntries(["web", "realtime", "bench"].map((name) => [name, readProbe(probes.file(name))]));
      const cpuPerSendMs = Object.fromEntries(
        (["web", "realtime", "bench"] as const).map((k) => {
          const a = cpuFrom[k];
          const b = cpuTo[k];
          return [k, a === null || b === null || !sends ? null : +(((b - a) * 1000) / sends).toFixed(3)];
        }),
      );
      return {
        seconds: +((to - from) / 1000).toFixed(1),
        sends,
        load: [load, os.loadavg()[0] as number],
        cpuPerSendMs,
        processes: Object.fromEntries(
          Object.entries(logs).map(([name, log]) => [name, processSummary(log, from, to, sends)]),
        ),
        groups: Object.fromEntries(Object.entries(groups).map(([label, parts]) => [label, tails(parts, logs, from)])),
      };
    },
  };
}

/** The readable lines of a window: each process, then each group's median against its slowest 1 %. */
function tailsLog(w: ReturnType<ReturnType<typeof probeWindow>["close"]>) {
  const lines = [
    `window ${w.seconds} s, ${w.sends} sends, load ${w.load.map((x) => x.toFixed(2)).join(" → ")}, CPU ms per send ${JSON.stringify(w.cpuPerSendMs)}`,
  ];
  for (const [name, p] of Object.entries(w.processes)) {
    lines.push(
      `  ${name}: GC ${p.gcMs} ms (${Object.entries(p.gcByKind)
        .map(([k, x]) => `${x.n} ${k} ≤ ${x.max}`)
        .join(
          ", ",
        )}), GC ≥ 5 ms per 1,000 sends ${p.gcOver5PerThousandSends}, stalls ≥ 5 ms per 1,000 sends ${p.stallsOver5PerThousandSends} (≥ 20 ms: ${p.stallsOver20}, max ${p.stallMax}), event-loop delay p99 per second: median ${p.eldP99.median} worst ${p.eldP99.worst} ms`,
    );
  }
  for (const [label, t] of Object.entries(w.groups)) if (t) lines.push(...tailLines(`  ${label}`, t));
  return lines;
}

/** Fan-out sizes: every socket subscribed, then 5,000 and 1,000 of them where there are more (issue 11's sizes). */
export function fanOutSizes(subscribed: number) {
  return [...new Set([subscribed, 5000, 1000])].filter((n) => n > 0 && n <= subscribed);
}

export async function runBench(opts: BenchOptions): Promise<BenchResult> {
  const log = opts.log ?? (() => {});
  const rows: Row[] = [];
  const raw: Record<string, unknown> = {};
  // The per-player send limit stays on (its cost is part of the path) but high enough for a
  // closed-loop sender, which sends far faster than a person.
  // Each process logs its GC pauses and event-loop stalls (bench/probe.mjs) for the tails' breakdown.
  const probes = probeFiles();
  const stack: Stack = await startStack(
    opts.basePort,
    { PLAYER_SEND_PER_SECOND: "100000", PLAYER_SEND_BURST: "100000", ...probes.env("web") },
    [],
    // The many-sockets scenario opens its sockets beside the latency scenario's, which stay open:
    // past the server's default 10,000 the rest were refused (4004) and the full run waited forever.
    { REALTIME_MAX_CONNECTIONS: String(2 * (opts.clients + opts.manySockets)), ...probes.env("realtime") },
  );
  startProbe(probes.file("bench"));
  const handle = connectPostgres(stack.postgres.url, 8);
  const publishLog = publishRetries(stack);
  const base = stack.url;
  const wsUrl = wsUrlOf(opts.basePort);
  let floor: ChildProcess | null = null;
  const sockets: WebSocket[] = [];
  try {
    // What the start cost: serve.ts's warm-up, before it listened (its own log line).
    log(`stack up: web ${base}; ${stack.web.logs.find((l) => l.includes("warmed up")) ?? "no warm-up line"}`);
    const { playerSessions, staffSessions } = await createAccounts(handle, base, {
      players: Math.max(opts.senders, ...opts.throughput),
      staff: opts.staff,
      // Room for their share of the staff → player scenario (each player held by one of them).
      maxConcurrentChats: Math.max(5, Math.ceil(opts.senders / opts.staff)),
    });
    log(`signed in ${playerSessions.length} players and ${staffSessions.length} staff`);

    // Staff sockets count a message delivered when the last of them has it.
    const authorize = channelAuthorizer(base);
    const toStaff = deliveries(opts.staff);
    /** Per staff socket: how many times each message id arrived. */
    const perSocket = Array.from({ length: opts.staff }, () => new Map<string, number>());
    const seqs = new Map<number, number[]>();
    // A send the bench made twice (its connection reset) is published again by design (the first
    // publish may be what failed); clients drop the copy by id. Counted apart, not as a duplicate.
    const resent = new Set<string>();
    const onStaffEvent = (socket: number) => (event: string, data: string) => {
      if (event !== "chat-message-received") return;
      const m = messageOf(data);
      if (!m) return;
      const arrived = perSocket[socket];
      arrived?.set(m.id, (arrived.get(m.id) ?? 0) + 1);
      if (socket === 0) seqs.set(m.playerId, [...(seqs.get(m.playerId) ?? []), m.seq]);
      toStaff.arrived(m.id, socket);
    };
    const authStarted = performance.now();
    for (let i = 0; i < opts.staff; i++) {
      const s = staffSessions[i] as Session;
      sockets.push(await pusherSocket(wsUrl, STAFF_CHANNEL, authorize(s, STAFF_CHANNEL), onStaffEvent(i)));
    }
    for (const p of playerSessions.slice(0, opts.senders)) {
      const channel = playerChannel(p.playerId ?? 0);
      sockets.push(await pusherSocket(wsUrl, channel, authorize(p, channel)));
    }
    const authPerSecond = Math.round(sockets.length / ((performance.now() - authStarted) / 1000));
    while (sockets.length < opts.clients) sockets.push(await pusherSocket(wsUrl, null, null));
    log(`connected ${sockets.length} sockets`);

    /** Sends one message: true once acknowledged; `onDone` when every staff socket has it. */
    const send = async (s: Session, onDone?: (parts: Parts) => void) => {
      const id = randomUUID();
      const outcome = await toStaff.send(
        id,
        () => trpcSend(base, s, id, `bench ${toStaff.counts.acknowledged}`),
        onDone,
      );
      if (outcome.kind !== "unanswered" && outcome.reply.resent) resent.add(id);
      return outcome.kind === "acknowledged";
    };

    // 1. Latency right after start, SENDERS players at 1 message/s each; the warm-up apart.
    {
      const warmParts: Parts[] = [];
      const steadyParts: Parts[] = [];
      const started = performance.now();
      const until = started + opts.seconds * 1000;
      const window = probeWindow(stack);
      await Promise.all(
        playerSessions.slice(0, opts.senders).map(async (s, i) => {
          await sleep((i * 1000) / opts.senders);
          for (let next = performance.now(); next < until; next += 1000) {
            const t = performance.now() - started;
            await send(s, (parts) => (t < opts.warmSeconds * 1000 ? warmParts : steadyParts).push(parts));
            await sleep(Math.max(0, next + 1000 - performance.now()));
          }
        }),
      );
      await toStaff.drained();
      raw.latencyWarm = stats(durations(warmParts));
      raw.latencySteady = stats(durations(steadyParts));
      log(`latency: warm ${JSON.stringify(raw.latencyWarm)} steady ${JSON.stringify(raw.latencySteady)}`);
      const latencyTails = window.close(probes, warmParts.length + steadyParts.length, {
        [`first ${opts.warmSeconds} s`]: warmParts,
        after: steadyParts,
      });
      raw.latencyTails = latencyTails;
      for (const line of tailsLog(latencyTails)) log(line);
    }

    // 2. Baselines in the same run: the floor (its own process, same Postgres) at the same load.
    const started = await startFloor(stack.postgres.url);
    floor = started.child;
    const floorPort = started.port;
    const toFloorStaff = deliveries(opts.staff);
    const floorSockets: WebSocket[] = [];
    for (let i = 0; i < opts.staff; i++) {
      const ws = new WebSocket(`ws://127.0.0.1:${floorPort}`);
      await new Promise((r, j) => ws.once("open", r).once("error", j));
      ws.on("message", (rawFrame) => {
        toFloorStaff.arrived(JSON.parse(JSON.parse(String(rawFrame)).data).id, i);
      });
      floorSockets.push(ws);
    }
    const floorSend = async (onDone?: (parts: Parts) => void) => {
      const id = randomUUID();
      const post = () =>
        request(`http://127.0.0.1:${floorPort}/`, { method: "POST", body: JSON.stringify({ id, text: "x" }) });
      return (await toFloorStaff.send(id, post, onDone)).kind === "acknowledged";
    };
    {
      const times: number[] = [];
      const seconds = Math.min(opts.seconds, 20);
      const until = performance.now() + seconds * 1000;
      await Promise.all(
        Array.from({ length: opts.senders }, async (_, i) => {
          await sleep((i * 1000) / opts.senders);
          for (let next = performance.now(); next < until; next += 1000) {
            await floorSend((p) => times.push(p.last));
            await sleep(Math.max(0, next + 1000 - performance.now()));
          }
        }),
      );
      await toFloorStaff.drained();
      raw.floorLatency = stats(times);
    }
    const floorLatency = raw.floorLatency as Stats;
    const warm = raw.latencyWarm as Stats;
    const steady = raw.latencySteady as Stats;
    rows.push(
      ...againstFloor(`send → ${opts.staff} staff sockets`, `first ${opts.warmSeconds} s`, warm, floorLatency),
      ...againstFloor("send → staff sockets", "after", steady, floorLatency),
    );

    const staticFile = await closedLoop(32, opts.baselineSeconds, async () => {
      return (await request(`${base}/OneSignalSDKWorker.js`)).status === 200;
    });
    const anonymous = await closedLoop(32, opts.baselineSeconds, async () => {
      return (await request(`${base}/api/trpc/chat.me`)).status === 401;
    });
    const me = (s: Session) => async () =>
      (await request(`${base}/api/trpc/chat.me`, { headers: { cookie: s.cookie } })).status === 200;
    const authed = await closedLoop(32, opts.baselineSeconds, (w) =>
      me(playerSessions[w % playerSessions.length] as Session)(),
    );
    const floorThroughput = await closedLoop(32, opts.baselineSeconds, () => floorSend());
    await toFloorStaff.drained();
    // From a separate quiet client, not this busy process (bench/README.md, "A quiet client").
    const {
      meTrip,
      sendTrip,
      resent: resentTrips,
    } = await quietRoundTrips({
      base,
      cookie: (playerSessions[0] as Session).cookie,
      n: opts.roundTrips,
      toStaff,
    });
    for (const id of resentTrips) resent.add(id);
    await toStaff.drained();
    raw.baselines = { staticFile, anonymous, authed, floorThroughput, meTrip, sendTrip };
    rows.push(
      { scenario: "static file from Next, 32 concurrent", value: `${staticFile.perSecond}/s` },
      {
        scenario: "anonymous tRPC (401), 32 concurrent",
        value: `${anonymous.perSecond}/s`,
        baseline: `static ${staticFile.perSecond}/s`,
        ratio: ratio(anonymous.perSecond, staticFile.perSecond),
      },
      {
        scenario: "chat.me, 32 concurrent",
        value: `${authed.perSecond}/s`,
        baseline: `static ${staticFile.perSecond}/s`,
        ratio: ratio(authed.perSecond, staticFile.perSecond),
        target: "≥ 900/s",
      },
      { scenario: "chat.me round trip p50 (quiet client)", value: ms(meTrip.p50), target: "≤ 1.5 ms" },
      {
        scenario: "chat.send round trip p50 (quiet client)",
        value: ms(sendTrip.p50),
        baseline: `floor ${ms(floorLatency.p50)}`,
        ratio: ratio(sendTrip.p50, floorLatency.p50),
        target: "≤ 3 ms",
      },
    );
    log(`baselines: ${JSON.stringify(raw.baselines)}`);

    // 3. Throughput: closed-loop senders, each message counted once every staff socket has it.
    for (const n of opts.throughput) {
      let delivered = 0;
      const started = performance.now();
      await closedLoop(n, opts.throughputSeconds, (w) =>
        send(playerSessions[w] as Session, () => {
          delivered++;
        }),
      );
      await toStaff.drained();
      const perSecond = Math.round(delivered / ((performance.now() - started) / 1000));
      raw[`throughput${n}`] = perSecond;
      rows.push({
        scenario: `stored + delivered to ${opts.staff} staff, ${n} senders`,
        value: `${perSecond}/s`,
        baseline: n === 32 ? `floor ${floorThroughput.perSecond}/s, static ${staticFile.perSecond}/s` : undefined,
        ratio: n === 32 ? ratio(perSecond, staticFile.perSecond) : undefined,
        target: n === 32 ? "≥ 600/s" : undefined,
      });
      log(`throughput ${n}: ${perSecond}/s`);
    }
    rows.push({ scenario: "channel authorizations at start", value: `${authPerSecond}/s` });

    // Integrity over everything acknowledged so far: every staff socket has each message once, seqs gap-free.
    let seqGaps = 0;
    for (const list of seqs.values()) {
      const sorted = [...new Set(list)].sort((a, b) => a - b);
      for (let i = 1; i < sorted.length; i++) if ((sorted[i] as number) !== (sorted[i - 1] as number) + 1) seqGaps++;
    }
    let duplicated = 0;
    let resentCopies = 0;
    for (const arrived of perSocket) {
      for (const [id, times] of arrived) {
        if (resent.has(id)) resentCopies += times - 1;
        else duplicated += times - 1;
      }
    }
    const lostIds = toStaff.lostIds();
    const integrity: Integrity = {
      sent: toStaff.counts.acknowledged,
      unanswered: toStaff.counts.unanswered,
      unansweredErrors: toStaff.unansweredErrors,
      lost: lostIds.length,
      lostIds,
      duplicated,
      seqGaps,
      resentCopies,
    };
    // Kept beside the other raw numbers too, so a run's JSON names what to investigate.
    raw.lostIds = lostIds;

    // 5. Staff → player at the latency scenario's load: every player once a second, by the staff.
    const backWindow = probeWindow(stack);
    const { parts: backParts, ...back } = await staffToPlayer({
      base,
      wsUrl,
      staff: staffSessions,
      players: playerSessions.slice(0, opts.senders),
      authorize,
      seconds: Math.min(opts.seconds, 30),
    });
    raw.staffToPlayer = back;
    const backTails = backWindow.close(probes, back.n, { "staff → player": backParts });
    raw.staffToPlayerTails = backTails;
    for (const line of tailsLog(backTails)) log(line);
    rows.push(...againstFloor("staff → player socket", `${opts.senders} players at 1/s`, back, floorLatency), {
      scenario: "staff → player sends refused / never answered",
      value: `${back.failed} / ${back.unanswered} of ${back.n + back.lost + back.failed + back.unanswered}${
        back.failed
          ? ` (${Object.entries(back.failures)
              .map(([why, n]) => `${n}× ${why}`)
              .join("; ")})`
          : ""
      }`,
      target: "0",
    });
    log(`staff → player: ${JSON.stringify(back)}`);

    // 6. Many sockets through the app's authorizer, then one event fanned out to all of them,
    // next to the same number of bare `ws` clients of the floor server, both open at once and
    // measured in alternated rounds (fanOut); then again with fewer of each (fanOutSizes).
    const ours = arrivalLog();
    const many = await manySockets({
      wsUrl,
      staff: staffSessions,
      authorize,
      count: opts.manySockets,
      concurrency: 32,
      realtimePid: stack.realtime.pid,
      onFrame: ours.frames((text) => {
        const f = JSON.parse(text) as { event: string; data: string };
        return f.event === "chat-message-received" ? (messageOf(f.data)?.id ?? null) : null;
      }),
    });
    const { sockets: manyOpen, ...manyResult } = many;
    raw.manySockets = manyResult;
    log(`many sockets: ${JSON.stringify(manyResult)}`);
    const bare = arrivalLog();
    const bareFrames = bare.frames((text) => (JSON.parse(JSON.parse(text).data) as { id: string }).id);
    const bareSockets: WebSocket[] = [];
    const sides = {
      ours: {
        arrivals: ours.arrivals,
        pid: stack.realtime.pid,
        publish: async () => {
          const id = randomUUID();
          await trpcSend(base, playerSessions[0] as Session, id, "fan-out");
          return id;
        },
      },
      bare: {
        arrivals: bare.arrivals,
        pid: started.child.pid,
        publish: async () => {
          const id = randomUUID();
          await request(`http://127.0.0.1:${floorPort}/`, { method: "POST", body: JSON.stringify({ id, text: "x" }) });
          return id;
        },
      },
    };
    /** Closes sockets past `size` on both sides and lets both servers see the closes. */
    const keep = async (size: number) => {
      const closing = [...manyOpen.splice(size), ...bareSockets.splice(size)];
      for (const ws of closing) ws.terminate();
      if (closing.length) await sleep(1000);
    };
    const fanOuts: Record<number, { ours?: FanOutResult; bare?: FanOutResult; alternated: boolean }> = {};
    const sizes = fanOutSizes(many.subscribed);
    for (const [i, size] of sizes.entries()) {
      await keep(size);
      const rounds = opts.fanOutRounds;
      if (roomForSockets(size - bareSockets.length)) {
        bareSockets.push(...(await floorSocketsOf(floorPort, size - bareSockets.length, bareFrames)));
        fanOuts[size] = { ...(await fanOut({ subscribers: size, rounds, sides })), alternated: true };
        continue;
      }
      // Both sets at this size do not fit this process's open-file limit (10,000 + 10,000 against
      // 20,000 here): ours' rounds, then ours down to the next size and the bare side's rounds.
      const first = await fanOut({ subscribers: size, rounds, sides: { ours: sides.ours } });
      for (const ws of manyOpen.splice(sizes[i + 1] ?? 0)) ws.terminate();
      await sleep(1000);
      bareSockets.push(...(await floorSocketsOf(floorPort, size - bareSockets.length, bareFrames)));
      const then = await fanOut({ subscribers: size, rounds, sides: { bare: sides.bare } });
      fanOuts[size] = { ours: first.ours, bare: then.bare, alternated: false };
    }
    for (const ws of [...manyOpen, ...bareSockets]) ws.terminate();
    raw.fanOut = fanOuts;
    rows.push(
      {
        scenario: `sockets subscribed through /api/realtime/auth (of ${opts.manySockets.toLocaleString("en")})`,
        value: `${many.subscribed.toLocaleString("en")} in ${many.seconds} s (${many.authPerSecond}/s)`,
        target: "10,000",
      },
      {
        scenario: "realtime memory per authorized socket",
        value: many.kbPerSocket === null ? "n/a" : `${many.kbPerSocket} KB`,
        target: "≤ 12 KB",
      },
    );
    for (const [size, { ours: o, bare: b, alternated }] of Object.entries(fanOuts).sort(
      ([x], [y]) => Number(y) - Number(x),
    )) {
      if (!o || !b) continue;
      const sockets = Number(size).toLocaleString("en");
      const how = alternated ? "alternated rounds" : "rounds, ours then bare";
      rows.push(
        {
          scenario: `fan-out to ${sockets} sockets, first → last p50 (${o.spread.n} + ${b.spread.n} ${how})`,
          value: ms(o.spread.p50),
          baseline: `bare ws ${ms(b.spread.p50)}`,
          ratio: ratio(o.spread.p50, b.spread.p50),
          target: "≤ 1.5×",
        },
        {
          scenario: `fan-out to ${sockets}, request → last socket p50`,
          value: ms(o.total.p50),
          baseline: `floor ${ms(b.total.p50)}`,
          ratio: ratio(o.total.p50, b.total.p50),
        },
        {
          scenario: `fan-out to ${sockets}, CPU per event of the fanning process (realtime / floor)`,
          value: ms(o.cpuMs),
          baseline: `floor ${ms(b.cpuMs)}`,
          ...(b.cpuMs > 0 ? { ratio: ratio(o.cpuMs, b.cpuMs) } : {}),
        },
      );
    }
    log(`fan-out: ${JSON.stringify(raw.fanOut)}`);

    // 7. Reconnect storm: the realtime server killed and restarted under N clients.
    const storm = await stormScenario(stack, playerSessions.slice(0, opts.senders), staffSessions, opts);
    raw.reconnectStorm = storm.raw;
    rows.push(...storm.rows);

    // 4. History: a club's worth of messages, then the staff queue, the staff page and thread pages.
    rows.push(...(await historyScenario(stack, handle, staffSessions[0] as Session, opts, raw, probes.file("web"))));
    // Why delivery can trail the sends: publish requests that failed (the server down or slow past
    // their 500 ms) and went to the gateway's background retry. The storm's are its own row.
    rows.push({
      scenario: "publishes retried in the background / left unanswered, outside the storm (web log)",
      value: `${publishLog.retried - storm.raw.publishes.retried} / ${publishLog.unanswered - storm.raw.publishes.unanswered}`,
    });
    publishLog.close();
    for (const ws of floorSockets) ws.terminate();
    return { rows, integrity, raw };
  } finally {
    for (const ws of sockets) ws.terminate();
    floor?.kill("SIGTERM");
    await handle.close();
    await stack.stop();
    agent.destroy();
  }
}

/** The stack's realtime server (basePort + 1), as the bench's raw Pusher sockets connect to it. */
const wsUrlOf = (basePort: number) =>
  `ws://127.0.0.1:${basePort + 1}/app/floorline-faults-key?protocol=7&client=bench&version=1`;

/** Accounts made the way the demo seed makes them, then real sign-ins for their cookies. */
async function createAccounts(
  handle: ReturnType<typeof connectPostgres>,
  base: string,
  counts: { players: number; staff: number; maxConcurrentChats: number },
) {
  const hash = await hashPassword(PASSWORD);
  /** Account i of `role`, its role's record made by `record` (which returns a player's id), signed in. */
  const signedUp = async (
    role: "player" | "staff",
    i: number,
    record: (userId: string, name: string) => Promise<number | undefined>,
  ): Promise<Session> => {
    const name = `Bench ${role} ${i}`;
    const email = `bench-${role}-${i}@floorline.test`;
    const id = await insertAccount(handle, { name, email, role }, hash);
    const playerId = await record(id, name);
    return { ...(await signIn(base, email)), ...(playerId === undefined ? {} : { playerId }) };
  };
  const playerSessions: Session[] = [];
  for (let i = 0; i < counts.players; i++) {
    playerSessions.push(
      await signedUp("player", i, async (userId, displayName) => {
        const [p] = await handle.db.insert(players).values({ userId, displayName }).returning();
        return p?.id;
      }),
    );
  }
  const staffSessions: Session[] = [];
  for (let i = 0; i < counts.staff; i++) {
    staffSessions.push(
      await signedUp("staff", i, async (userId, displayName) => {
        await handle.db.insert(staff).values({ userId, displayName, maxConcurrentChats: counts.maxConcurrentChats });
        return undefined;
      }),
    );
  }
  return { playerSessions, staffSessions };
}

/** A channel authorization through the app (/api/realtime/auth), as pusher-js asks for it. */
const channelAuthorizer = (base: string) => (s: Session, channel: string) => async (socketId: string) => {
  const res = await request(`${base}/api/realtime/auth`, {
    method: "POST",
    headers: { cookie: s.cookie, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ socket_id: socketId, channel_name: channel }).toString(),
  });
  if (res.status !== 200) throw new Error(`realtime auth: HTTP ${res.status}`);
  return JSON.parse(res.body).auth as string;
};

/**
 * Counts the web process's publish requests that failed and went to the gateway's background
 * retry (`[realtime] publish failed …`) and those left unanswered (`… publish unanswered …`, also
 * retried: our server drops a repeat by its idempotency keys), from when this is called until
 * `close`. One line per request that failed on the wire: batches made meanwhile are held behind it
 * without a line of their own (server/chat/gateway.ts), so this counts failures, not batches.
 */
function publishRetries(stack: Stack) {
  const counts = { retried: 0, unanswered: 0 };
  const count = (line: string) => {
    if (/\[realtime\] publish failed/.test(line)) counts.retried++;
    else if (/\[realtime\] publish unanswered/.test(line)) counts.unanswered++;
  };
  stack.web.lineListeners.add(count);
  return Object.assign(counts, { close: () => stack.web.lineListeners.delete(count) });
}

/** The reconnect storm with its rows; `--only storm` runs it alone. */
async function stormScenario(
  stack: Stack,
  players: Session[],
  staffSessions: Session[],
  opts: Pick<BenchOptions, "basePort" | "stormClients"> & { log?: (line: string) => void },
) {
  const base = stack.url;
  const publishes = publishRetries(stack);
  const storm = await reconnectStorm({
    base,
    wsUrl: wsUrlOf(opts.basePort),
    stack,
    players,
    staff: staffSessions,
    clients: opts.stormClients,
    authorize: channelAuthorizer(base),
    sendAsPlayer: async (s) => {
      const outcome = await settle(trpcSend(base, s, randomUUID(), "while realtime is down"));
      if (outcome.kind !== "acknowledged") return { kind: outcome.kind };
      const seq = /"seq":(\d+)/.exec(outcome.reply.body)?.[1];
      return { kind: outcome.kind, seq: seq ? Number(seq) : undefined };
    },
  });
  publishes.close();
  const raw = { ...storm, publishes: { retried: publishes.retried, unanswered: publishes.unanswered } };
  const ph = storm.phases;
  const rows: Row[] = [
    {
      scenario: `reconnect storm: ${storm.clients} clients resubscribed and caught up after a realtime kill`,
      value: `${storm.caughtUp}/${storm.clients} in ${storm.seconds} s`,
      target: "≤ 5 s, all",
    },
    {
      scenario: "reconnect storm: players' sends while realtime was down acknowledged / refused / never answered",
      value: `${storm.sends.acknowledged} / ${storm.sends.refused} / ${storm.sends.unanswered}`,
    },
    {
      // The sends above, made while the server is down: each lane's request on the wire fails and is
      // retried in the background, and the batches behind it are held with it (no line of their own).
      scenario: "reconnect storm: publishes retried in the background / left unanswered (web log)",
      value: `${raw.publishes.retried} / ${raw.publishes.unanswered}`,
    },
    {
      scenario: "reconnect storm: catch-up requests / web CPU",
      value: `${storm.catchUpRequests} / ${storm.webCpuSeconds ?? "n/a"} s`,
    },
    {
      scenario: "reconnect storm: s after the kill until realtime up / all connected / authorized / caught up",
      value: `${ph.realtimeUp} / ${ph.connected} / ${ph.authorized} / ${ph.caughtUp} s`,
    },
    {
      scenario: "reconnect storm: realtime CPU from up until all caught up",
      value: `${storm.realtimeCpuSeconds ?? "n/a"} s`,
    },
  ];
  opts.log?.(`reconnect storm: ${JSON.stringify(raw)}`);
  return { rows, raw };
}

/**
 * `--only storm`: the reconnect storm alone, on a stack of its own with the full run's players and staff
 * (each player with only the storm's messages: a catch-up after the kill reads one message either way).
 */
export async function runStorm(opts: BenchOptions): Promise<BenchResult> {
  const log = opts.log ?? (() => {});
  const stack = await startStack(opts.basePort, { PLAYER_SEND_PER_SECOND: "100000", PLAYER_SEND_BURST: "100000" });
  const handle = connectPostgres(stack.postgres.url, 8);
  try {
    const { playerSessions, staffSessions } = await createAccounts(handle, stack.url, {
      players: opts.senders,
      staff: opts.staff,
      maxConcurrentChats: 5,
    });
    log(`signed in ${playerSessions.length} players and ${staffSessions.length} staff`);
    const storm = await stormScenario(stack, playerSessions, staffSessions, opts);
    const integrity: Integrity = {
      sent: storm.raw.sends.acknowledged,
      unanswered: storm.raw.sends.unanswered,
      unansweredErrors: [],
      lost: storm.raw.clients - storm.raw.caughtUp,
      lostIds: [],
      duplicated: 0,
      seqGaps: 0,
      resentCopies: 0,
    };
    return { rows: storm.rows, integrity, raw: { reconnectStorm: storm.raw } };
  } finally {
    await handle.close();
    await stack.stop();
    agent.destroy();
  }
}

/**
 * `--only history`: scenario 4 alone, on a stack of its own with one signed-in staff member — the
 * way to measure the history reads at full size without the 10-minute run around them.
 */
export async function runHistory(opts: BenchOptions): Promise<BenchResult> {
  // PROBE=1: the web process logs its GC pauses and stalls (bench/probe.mjs) as in the full run, and
  // raw.history.webProbe keeps those of the reads next to each sample's start (`at`).
  const probes = process.env.PROBE === "1" ? probeFiles() : null;
  const stack = await startStack(opts.basePort, probes ? probes.env("web") : {});
  const handle = connectPostgres(stack.postgres.url, 8);
  try {
    const email = "bench-staff-0@floorline.test";
    await createStaffAccount(handle, email, "Bench staff 0");
    const raw: Record<string, unknown> = {};
    const rows = await historyScenario(stack, handle, await signIn(stack.url, email), opts, raw, probes?.file("web"));
    const integrity = {
      sent: 0,
      unanswered: 0,
      unansweredErrors: [],
      lost: 0,
      lostIds: [],
      duplicated: 0,
      seqGaps: 0,
      resentCopies: 0,
    };
    return { rows, integrity, raw };
  } finally {
    await handle.close();
    await stack.stop();
    agent.destroy();
  }
}

/** A staff member who can sign in with the bench's password (then `signIn(url, email)`). */
export async function createStaffAccount(handle: ReturnType<typeof connectPostgres>, email: string, name: string) {
  const id = await insertAccount(handle, { name, email, role: "staff" }, await hashPassword(PASSWORD));
  await handle.db.insert(staff).values({ userId: id, displayName: name });
}

/** A user and its password credential (`hash` of the bench's password), as the demo seed makes them; its id. */
async function insertAccount(
  handle: ReturnType<typeof connectPostgres>,
  fields: { name: string; email: string; role: "player" | "staff" },
  hash: string,
) {
  const id = randomUUID();
  await handle.db.insert(user).values({ id, ...fields, emailVerified: true });
  await handle.db
    .insert(account)
    .values({ id: randomUUID(), accountId: id, providerId: "credential", userId: id, password: hash });
  return id;
}

/**
 * History: `historyMessages` seeded, then `staff.queue`, the `/staff` page and a thread's latest
 * and older page (REST), sequential round trips, each with the web process's CPU per request from
 * /proc. Two passes over the four kinds: the first right after start (after the very first request
 * of its kind, reported alone, and three unmeasured ones), then the same again. On 2026-11-26 the
 * first pass cost the web process about 3× the CPU of the second for the queue and 2× for the page
 * (V8 still compiling the path: its optimising tiers need tens of calls), and its slow samples were
 * the early ones of each kind, not GC (pauses ≤ 14 ms) or autovacuum (none ran): see
 * bench/README.md. A server that has run for a while is in the second state; a restarted one in the
 * first, so both are reported.
 * Every sample is kept in order in `raw.history` (p99 of 10–50 samples is their maximum).
 */
async function historyScenario(
  stack: Stack,
  handle: ReturnType<typeof connectPostgres>,
  staffSession: Session,
  opts: BenchOptions,
  raw: Record<string, unknown>,
  /** The web process's probe log (bench/probe.mjs), when it has one. */
  webProbeFile?: string,
): Promise<Row[]> {
  const log = opts.log ?? (() => {});
  const beforeSeed = stack.web.pid;
  const history = await seedHistory(handle, opts.historyMessages, opts.historyPlayers);
  log(`history: ${opts.historyMessages} messages seeded in ${history.seconds} s`);
  // The reads run on a web process started against the full database, as a real server starts.
  // The bench seeds after its stack started, so the running process had warmed up (warm-up.ts) on an
  // empty queue: its first queue after the seed compiled the row path then, and in the full run it
  // had also served every scenario before. On 2026-11-26 that measured the bench's own order, not
  // the product (bench/README.md, "The first pass after a start at 1M"). Sessions live in the
  // database, so the staff member's cookie still holds.
  // PG_SLOW_MS=<ms>: Postgres logs every statement of the restarted web's connections that took at
  // least that long, with its plan and buffers (auto_explain); raw.history.postgresLog keeps them.
  const pgSlowMs = process.env.PG_SLOW_MS;
  if (pgSlowMs) await logSlowStatements(stack.postgres.url, Number(pgSlowMs));
  await stack.web.kill("SIGTERM");
  // WEB_LINES=1: what the restarted web process writes (e.g. V8's --trace-gc / --trace-opt lines,
  // BENCH_V8_FLAGS in bench/probe.mjs), each with the wall-clock time the bench read it.
  const webLines: { t: number; line: string }[] = [];
  const keepLine = (line: string) => webLines.push({ t: Date.now(), line });
  if (process.env.WEB_LINES === "1") stack.web.lineListeners.add(keepLine);
  const started = Date.now();
  await stack.web.start();
  const webPid = { beforeSeed, reads: stack.web.pid };
  // The server's own time from Server-Timing (API routes answer it, node-bridge.ts; Next's pages
  // do not): the targets are server time, the round trip adds the bench's and the kernel's.
  // PROBE=1 (the web's probe loaded): each measured read is marked (`x-bench-probe: <kind>/<pass>/<i>`)
  // and the probe takes its server time apart (bench/probe.mjs, bench/request-parts.ts). Not in a
  // plain full run, whose probe watches only GCs and stalls: taking a read apart costs it ~0.1 ms.
  const takeApart = process.env.PROBE === "1" && webProbeFile ? webProbeFile : null;
  const get = (p: string) => async (probeId?: string) => {
    const headers: Record<string, string> = { cookie: staffSession.cookie };
    if (probeId && takeApart) headers["x-bench-probe"] = probeId;
    const res = await request(`${stack.url}${p}`, { headers });
    return { ok: res.status === 200, serverMs: serverTiming(res) };
  };
  const kinds = [
    { name: "queue", n: Math.min(30, opts.roundTrips), fn: get("/api/trpc/staff.queue") },
    { name: "page", n: Math.min(10, opts.roundTrips), fn: get("/staff") },
    // 1,000 thread reads (5 × roundTrips at most): the p99 of n sequential samples is the
    // (n / 100)th slowest, so with 200 it was the second slowest, which moved by several ms between
    // runs of the same build with the machine's odd moment; with 1,000 it is the tenth (bench/README.md
    // "Thread page tails, taken apart": both estimates from the same runs). A read is ~1 ms, so this
    // adds seconds. `p99Of200` keeps the old estimate of each 200 in a row, max stays reported, and
    // every sample stays in raw.history.
    {
      name: "latest",
      n: Math.min(1000, 5 * opts.roundTrips),
      fn: get(`/api/player-chat-integration/messages/${history.playerId}`),
    },
    {
      name: "older",
      n: Math.min(1000, 5 * opts.roundTrips),
      fn: get(`/api/player-chat-integration/messages/${history.playerId}?before=${history.olderSeq}&limit=50`),
    },
  ] as const;
  type Measured = Stats & {
    cpuMs: number | null;
    samples: number[];
    server: Stats | null;
    serverSamples: number[];
    /** Each sample's start, ms since the epoch (to line up with the probe's GCs and stalls). */
    at: number[];
    /** With the probe: each sample's server time taken apart (bench/request-parts.ts), in order. */
    parts?: (RequestParts | null)[];
    /** With the probe: the parts' medians, and the server time less the web's and Postgres's waits for a core. */
    apart?: { median: ReturnType<typeof medianParts>; lessWaits: Stats };
    /** Server p99 of each 200 samples in a row (n ≥ 400). */
    p99Of200?: number[];
  };
  /** Marked samples' ids and the bench's send / answer times (ms since the epoch, µs precision). */
  const marked: { id: string; sent: number; received: number; steal: number | null }[] = [];
  const wallNow = () => performance.timeOrigin + performance.now();
  const measure = async (n: number, fn: (typeof kinds)[number]["fn"], label: string): Promise<Measured> => {
    const cpuBefore = cpuSeconds(stack.web.pid);
    const samples: number[] = [];
    const serverSamples: number[] = [];
    const at: number[] = [];
    for (let i = 0; i < n; i++) {
      at.push(Date.now());
      const id = `${label}/${i}`;
      // With the probe: the machine's steal time over each marked read, all cores (10 ms ticks). Read by
      // the bench before and after the request, so it costs the round trip, not the server time.
      const stealFrom = takeApart ? stealMs() : null;
      const sent = wallNow();
      const t = performance.now();
      const { ok, serverMs } = await fn(id);
      if (!ok) throw new Error("round trip failed");
      samples.push(+(performance.now() - t).toFixed(2));
      const received = wallNow();
      const stealTo = stealFrom === null ? null : stealMs();
      marked.push({ id, sent, received, steal: stealFrom === null || stealTo === null ? null : stealTo - stealFrom });
      if (serverMs !== null) serverSamples.push(serverMs);
    }
    const cpu = cpuSeconds(stack.web.pid);
    const cpuMs = cpu !== null && cpuBefore !== null ? +(((cpu - cpuBefore) * 1000) / n).toFixed(1) : null;
    const server = serverSamples.length === n ? stats(serverSamples) : null;
    // The server p99 each 200 samples in a row would have given (what the bench reported until 2026-11-27).
    const p99Of200 =
      server && n >= 400
        ? Array.from({ length: Math.floor(n / 200) }, (_, b) => stats(serverSamples.slice(b * 200, b * 200 + 200)).p99)
        : undefined;
    return { ...stats(samples), cpuMs, samples, server, serverSamples, at, ...(p99Of200 ? { p99Of200 } : {}) };
  };
  // The very first request of each kind after the start, alone: it loads and compiles that kind's
  // code unless the warm-up already did (the staff page's was 226–333 ms against ~50 ms warm).
  const veryFirst: Record<string, Measured> = {};
  const first: Record<string, Measured> = {};
  const postgresBefore = await postgresBusy(handle);
  const stealBefore = stealMs();
  for (const k of kinds) {
    veryFirst[k.name] = await measure(1, k.fn, `${k.name}/veryFirst`);
    await roundTrips(3, async () => (await k.fn()).ok);
    first[k.name] = await measure(k.n, k.fn, `${k.name}/first`);
  }
  const second: Record<string, Measured> = {};
  for (const k of kinds) second[k.name] = await measure(k.n, k.fn, `${k.name}/second`);
  const postgres = { before: postgresBefore, after: await postgresBusy(handle) };
  // Time the hypervisor ran something else on this machine's cores during the reads (all cores, 10 ms ticks).
  const stealDuringReads = stealBefore === null ? null : (stealMs() ?? stealBefore) - stealBefore;
  if (takeApart) {
    const lines = await requestLinesFor(
      stack.web.pid,
      takeApart,
      marked.map((m) => m.id),
    );
    const byId = new Map(marked.map((m) => [m.id, m]));
    for (const [pass, group] of [
      ["veryFirst", veryFirst],
      ["first", first],
      ["second", second],
    ] as const)
      for (const k of kinds) {
        const m = group[k.name];
        if (!m) continue;
        m.parts = m.samples.map((_, i) => {
          const id = `${k.name}/${pass}/${i}`;
          const line = lines.get(id);
          const b = byId.get(id);
          return line && b ? partsOf(line, b.sent, b.received, b.steal) : null;
        });
        const parts = m.parts.filter((p): p is RequestParts => p !== null);
        if (parts.length)
          m.apart = {
            median: medianParts(parts),
            lessWaits: stats(parts.map((p) => +(p.server - (p.mainWait ?? 0) - (p.pgWait ?? 0)).toFixed(3))),
          };
      }
  }
  stack.web.lineListeners.delete(keepLine);
  // The web process's GC pauses and stalls from its start to the end of the reads.
  const ended = Date.now();
  const probe = webProbeFile ? readProbe(webProbeFile) : null;
  const webProbe = probe && {
    gcs: probe.gcs.filter((g) => g.t >= started && g.t <= ended),
    stalls: probe.stalls.filter((s) => s.t >= started && s.t <= ended),
  };
  const postgresLog = pgSlowMs ? await postgresLogSince(handle, started) : null;
  raw.history = {
    messages: opts.historyMessages,
    seedSeconds: history.seconds,
    webPid,
    postgres,
    stealMsDuringReads: stealDuringReads,
    loadAfterReads: os.loadavg(),
    ...second,
    firstPass: first,
    veryFirst,
    ...(webProbe ? { webProbe } : {}),
    ...(webLines.length ? { webLines } : {}),
    ...(postgresLog ? { postgresLog } : {}),
  };
  for (const k of kinds)
    log(
      `history ${k.name}: max ${second[k.name]?.max} ms (first pass ${first[k.name]?.max} ms, very first ${veryFirst[k.name]?.max} ms) of ${second[k.name]?.n}; server max ${second[k.name]?.server?.max ?? "-"} ms${second[k.name]?.p99Of200 ? `; server p99 of each 200 in a row: first pass ${first[k.name]?.p99Of200?.join(", ")}, second ${second[k.name]?.p99Of200?.join(", ")}` : ""}`,
    );
  log(`history: Postgres before / after the reads ${JSON.stringify(postgres)}`);
  // With a probe: what the web process's GCs and stalls did during the slowest queue sample of each pass.
  for (const [pass, m] of [
    ["first pass", first.queue],
    ["second pass", second.queue],
  ] as const) {
    if (!webProbe || !m) continue;
    const i = m.samples.indexOf(m.max);
    const from = m.at[i] as number;
    const to = from + m.max;
    const during = <T extends { t: number }>(xs: T[]) => xs.filter((x) => x.t >= from - 1 && x.t <= to);
    log(
      `history queue ${pass}: slowest sample #${i + 1} ${m.max} ms (server ${m.serverSamples[i] ?? "-"}); web GCs ${JSON.stringify(during(webProbe.gcs))}, stalls ${JSON.stringify(during(webProbe.stalls))}`,
    );
  }
  // With the probe: the thread reads' parts, the median sample's and the five slowest's (by server time).
  for (const [pass, group] of [
    ["first pass", first],
    ["second pass", second],
  ] as const)
    for (const name of ["latest", "older"]) {
      const parts = (group[name]?.parts ?? []).filter((p): p is RequestParts => p !== null);
      const apart = group[name]?.apart;
      if (!parts.length || !apart) continue;
      const w = apart.lessWaits;
      log(
        `history ${name} ${pass}: server less the web's and Postgres's waits for a core p50 ${w.p50} / p99 ${w.p99} / max ${w.max} ms; median parts: ${showParts(apart.median)}`,
      );
      for (const p of [...parts].sort((a, b) => b.server - a.server).slice(0, 5))
        log(`history ${name} ${pass}, slow ${p.id}: ${showParts(p)}`);
    }
  const label = `${opts.historyMessages.toLocaleString("en")} messages`;
  const figures = (s: Measured) =>
    `${ms(s.p50)} / ${ms(s.p99)} (${s.cpuMs ?? "?"} ms${s.server ? `; server ${ms(s.server.p50)} / ${ms(s.server.p99)}, max ${ms(s.server.max)}` : ""})`;
  const single = (s: Measured) =>
    `${ms(s.max)} (${s.cpuMs ?? "?"} ms${s.server ? `; server ${ms(s.server.max)}` : ""})`;
  const row = (what: string, name: string, target: string): Row => ({
    scenario: `${what} at ${label}, p50 / p99 round trip (web CPU per request; server time p50 / p99, max from Server-Timing, API routes only) of ${second[name]?.n}; first pass after start; very first request after start`,
    value: `${figures(second[name] as Measured)}; first ${figures(first[name] as Measured)}; very first ${single(veryFirst[name] as Measured)}`,
    target,
  });
  return [
    row("staff.queue", "queue", "≤ 20 ms p99"),
    row("staff page", "page", "≤ 100 ms p99"),
    row("thread latest page", "latest", "≤ 5 ms p99"),
    row("thread older page", "older", "≤ 5 ms p99"),
  ];
}

async function waitDrained(pending: Map<string, unknown>, ms = 5000) {
  const until = performance.now() + ms;
  while (pending.size > 0 && performance.now() < until) await sleep(20);
}

/**
 * `messages` rows over `playerCount` players (one chat each, the last 100 still open, a few unread
 * at the end of each), written in bulk by Postgres itself so seeding stays seconds, not minutes.
 */
export async function seedHistory(handle: ReturnType<typeof connectPostgres>, messages: number, playerCount: number) {
  const started = performance.now();
  const perPlayer = Math.max(1, Math.floor(messages / playerCount));
  const db = handle.db;
  await db.execute(sql`
    INSERT INTO "user" (id, name, email, email_verified, role)
    SELECT 'hist-' || g, 'History ' || g, 'hist-' || g || '@floorline.test', true, 'player'
    FROM generate_series(1, ${playerCount}) g`);
  await db.execute(sql`
    INSERT INTO players (user_id, display_name, last_seq)
    SELECT 'hist-' || g, 'History ' || g, ${perPlayer} FROM generate_series(1, ${playerCount}) g`);
  await db.execute(sql`
    INSERT INTO chat_requests (player_id, player_name, initial_message, status, created_at, resolved_at, last_message_at)
    SELECT p.id, p.display_name, 'hello',
      (CASE WHEN row_number() OVER (ORDER BY p.id DESC) <= 100 THEN 'waiting' ELSE 'resolved' END)::chat_request_status,
      now() - interval '30 days', now() - interval '1 day', now()
    FROM players p WHERE p.user_id LIKE 'hist-%'`);
  await db.execute(sql`
    INSERT INTO chat_messages (id, request_id, player_id, seq, sender, sender_name, message_text, timestamp, status)
    SELECT gen_random_uuid(), r.id, r.player_id, s,
      (CASE WHEN s % 2 = 1 THEN 'player' ELSE 'staff' END)::chat_message_sender,
      'x', 'history message ' || s,
      now() - interval '30 days' + s * interval '1 minute',
      (CASE WHEN s > ${perPlayer} - 3 THEN 'sent' ELSE 'read' END)::chat_message_status
    FROM chat_requests r JOIN players p ON p.id = r.player_id AND p.user_id LIKE 'hist-%',
      generate_series(1, ${perPlayer}) s`);
  await settleAsLive(db);
  const [row] = await db.select({ id: players.id }).from(players).where(eq(players.userId, "hist-1"));
  return {
    seconds: +((performance.now() - started) / 1000).toFixed(1),
    playerId: row?.id ?? 0,
    olderSeq: Math.max(2, Math.floor(perPlayer / 2)),
  };
}

/** The machine's steal time so far (/proc/stat, every core), ms; null where there is none to read. */
function stealMs(): number | null {
  try {
    const cpu = fs.readFileSync("/proc/stat", "utf8").split("\n", 1)[0]?.split(/\s+/) ?? [];
    const ticks = Number(cpu[8]);
    return Number.isFinite(ticks) ? ticks * 10 : null;
  } catch {
    return null;
  }
}

/** Diagnosis (PG_SLOW_MS): auto_explain for the connections opened from now on (the stack's private cluster). */
async function logSlowStatements(url: string, ms: number) {
  // One connection: ALTER SYSTEM knows auto_explain's settings only where the module is loaded.
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  await client.query("LOAD 'auto_explain'");
  for (const [name, value] of [
    ["session_preload_libraries", "auto_explain"],
    ["auto_explain.log_min_duration", `${ms}ms`],
    ["auto_explain.log_analyze", "on"],
    ["auto_explain.log_buffers", "on"],
    ["log_min_duration_statement", `${ms}ms`],
  ])
    await client.query(`ALTER SYSTEM SET ${name} = '${value}'`);
  await client.query("select pg_reload_conf()");
  await client.end();
}

/** The private cluster's log (pg_ctl -l, next to its data directory) from `since` (ms since the epoch) on. */
async function postgresLogSince(handle: ReturnType<typeof connectPostgres>, since: number) {
  const [row] = await rowsOf<{ dir: string }>(handle.db, sql`select current_setting('data_directory') as dir`);
  if (!row) return [];
  const text = fs.readFileSync(path.join(path.dirname(row.dir), "log"), "utf8");
  // Entries start with a timestamp (log_line_prefix '%m [%p] '); the lines after one belong to it.
  const entries: string[] = [];
  for (const line of text.split("\n")) {
    if (/^\d{4}-\d\d-\d\d /.test(line)) entries.push(line);
    else if (entries.length) entries[entries.length - 1] += `\n${line}`;
  }
  return entries.filter((e) => Date.parse(`${e.slice(0, 23).replace(" ", "T")}Z`) >= since);
}

/**
 * What Postgres's own background work was doing, read before and after the history reads: the
 * autovacuum / autoanalyze runs and checkpoints finished so far, when chat_messages was last
 * vacuumed, and whether a vacuum or a paced checkpoint was under way: beside slow samples, whether
 * the database had work of its own then.
 */
async function postgresBusy(handle: ReturnType<typeof connectPostgres>) {
  const [row] = await rowsOf<Record<string, number | boolean | string>>(
    handle.db,
    sql`select
      (select coalesce(sum(autovacuum_count + autoanalyze_count), 0)::int from pg_stat_user_tables) as "autovacuums",
      (select (checkpoints_timed + checkpoints_req)::int from pg_stat_bgwriter) as "checkpoints",
      (select coalesce(greatest(last_vacuum, last_autovacuum)::text, 'never') from pg_stat_user_tables
        where relname = 'chat_messages') as "messagesVacuumed",
      exists (select 1 from pg_stat_activity where backend_type = 'autovacuum worker') as "vacuuming",
      exists (select 1 from pg_stat_activity
        where backend_type = 'checkpointer' and wait_event = 'CheckpointWriteDelay') as "checkpointing"`,
  );
  return row;
}

/**
 * Leave the bulk-written database in the state a live one is in, so the reads after the seed
 * measure the product and not the seed. A club's rows arrive a few at a time over months: autovacuum
 * has long since visited them (pages all-visible, hint bits set) and checkpoints write a little at a
 * time. Right after one INSERT … SELECT of 1,000,000 rows neither is true: autovacuum's insert
 * threshold is crossed, so it vacuums the table within a minute (`autovacuum_naptime`), whenever
 * that falls, perhaps during the reads; and the seed's WAL has started a checkpoint that writes the
 * table out, paced over minutes, through the whole history scenario (both seen on 2026-11-26 in
 * Postgres's own log: bench/README.md, "Thread page tails", which also says these were not shown
 * to be what made the slow reads). So the seed ends with the work autovacuum and the checkpointer
 * would do, done now and waited for.
 */
async function settleAsLive(db: ReturnType<typeof connectPostgres>["db"]) {
  await db.execute(sql`VACUUM (ANALYZE)`);
  await db.execute(sql`CHECKPOINT`);
}

export function machine() {
  return { cores: os.cpus().length, memoryGb: +(os.totalmem() / 2 ** 30).toFixed(1), node: process.version };
}

export function formatTable(result: BenchResult) {
  const lines = ["| scenario | result | same-run baseline | ratio | target |", "|---|---|---|---|---|"];
  for (const r of result.rows)
    lines.push(`| ${r.scenario} | ${r.value} | ${r.baseline ?? ""} | ${r.ratio ?? ""} | ${r.target ?? ""} |`);
  const i = result.integrity;
  // `--only history` sends nothing: no integrity to report.
  if (i.sent === 0) return lines.join("\n");
  lines.push(
    `| messages sent (acknowledged) / lost / duplicated / seq gaps | ${i.sent} / ${i.lost} / ${i.duplicated} / ${i.seqGaps} | | | 0 lost, 0 dup, 0 gaps |`,
    `| sends never answered (the request failed; stored or not, unknown: not counted as sent or lost) | ${i.unanswered}${i.unansweredErrors.length ? ` (${[...new Set(i.unansweredErrors)].join("; ")})` : ""} | | | 0 |`,
    `| copies of sends the bench itself made twice (connection reset; the id keeps them stored once) | ${i.resentCopies} | | | |`,
  );
  return lines.join("\n");
}
