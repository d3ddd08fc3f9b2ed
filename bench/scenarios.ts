/**
 * The scenarios of issue 11 beyond latency and throughput, on the stack bench/path.ts started:
 * staff → player latency, many sockets authorized by the app, fan-out against a bare `ws`
 * broadcast, and a reconnect storm. Each returns raw numbers; path.ts puts them in the table.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import { performance } from "node:perf_hooks";
import WebSocket from "ws";
import { STAFF_CHANNEL } from "@/protocol/channels";
import { reconnectCheckDelayMs } from "@/protocol/reconnect";
import type { Stack } from "../tests/support/stack";
import {
  deliveries,
  durations,
  messageOf,
  type Outcome,
  type Parts,
  pusherSocket,
  request,
  type Session,
  type Stats,
  sleep,
  stats,
  whyUnanswered,
} from "./path";

type Authorize = (s: Session, channel: string) => (socketId: string) => Promise<string>;

/**
 * Staff → player: the staff message players by Player ID (REST, as the club's integration does),
 * each player once a second, each player by one staff member (player i by staff i mod n, so every
 * staff member holds a share within their capacity: a staff member may hold only so many chats,
 * and one who messages more players than that is refused with 409). Timed until that player's
 * socket has the message. Refused (`failed`) and unanswered sends are counted by status and reason
 * in `failures`; neither is waited for nor counted as lost (`deliveries`).
 */
export async function staffToPlayer(opts: {
  base: string;
  wsUrl: string;
  staff: Session[];
  players: Session[];
  authorize: Authorize;
  seconds: number;
}) {
  const toPlayers = deliveries(1);
  const sockets: WebSocket[] = [];
  for (const p of opts.players) {
    const channel = `private-player-${p.playerId}`;
    sockets.push(
      await pusherSocket(opts.wsUrl, channel, opts.authorize(p, channel), (event, data) => {
        if (event !== "chat-message-received") return;
        const m = messageOf(data);
        if (m) toPlayers.arrived(m.id, 0);
      }),
    );
  }
  const parts: Parts[] = [];
  const failures: Record<string, number> = {};
  const until = performance.now() + opts.seconds * 1000;
  await Promise.all(
    opts.players.map(async (p, i) => {
      const staff = opts.staff[i % opts.staff.length] as Session;
      await sleep((i * 1000) / opts.players.length);
      for (let next = performance.now(); next < until; next += 1000) {
        const id = randomUUID();
        const post = () =>
          request(`${opts.base}/api/player-chat-integration/send`, {
            method: "POST",
            headers: { cookie: staff.cookie, "content-type": "application/json", origin: opts.base },
            body: JSON.stringify({ playerId: p.playerId, id, text: "from the floor" }),
          });
        const outcome = await toPlayers.send(id, post, (p) => parts.push(p));
        if (outcome.kind !== "acknowledged") {
          const why =
            outcome.kind === "unanswered"
              ? `no answer: ${whyUnanswered(outcome.error)}`
              : `${outcome.reply.status} ${refusal(outcome.reply.body)}`;
          failures[why] = (failures[why] ?? 0) + 1;
        }
        await sleep(Math.max(0, next + 1000 - performance.now()));
      }
    }),
  );
  await toPlayers.drained();
  const lostIds = toPlayers.lostIds();
  for (const ws of sockets) ws.terminate();
  const { refused: failed, unanswered } = toPlayers.counts;
  return { ...stats(durations(parts)), failed, unanswered, failures, lost: lostIds.length, lostIds, parts };
}

/** The message of a REST error answer (`{ error: { message } }`), else the start of the body. */
function refusal(body: string) {
  try {
    const message = (JSON.parse(body) as { error?: { message?: unknown } }).error?.message;
    if (typeof message === "string") return message;
  } catch {} // not JSON: show it as it came
  return body.slice(0, 120);
}

/**
 * `count` sockets, each subscribed to the staff channel through the app's /api/realtime/auth
 * (staff cookies, `concurrency` authorizations in flight): how many made it, how fast, and what
 * the realtime process holds per socket. The sockets stay open for the fan-out.
 */
/** Messages a storm client's catch-up asks for at a time. */
const CATCH_UP_PAGE = 200;

export async function manySockets(opts: {
  wsUrl: string;
  staff: Session[];
  authorize: Authorize;
  count: number;
  concurrency: number;
  realtimePid: number | undefined;
  /** Each frame's text once the socket is subscribed (the fan-out counts them). */
  onFrame: (text: string) => void;
}) {
  const rssBefore = rssKb(opts.realtimePid);
  const sockets: WebSocket[] = [];
  let failed = 0;
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: opts.concurrency }, async () => {
      while (next < opts.count) {
        const i = next++;
        const s = opts.staff[i % opts.staff.length] as Session;
        try {
          sockets.push(
            await pusherSocket(opts.wsUrl, STAFF_CHANNEL, opts.authorize(s, STAFF_CHANNEL), undefined, opts.onFrame),
          );
        } catch {
          failed++;
        }
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  await sleep(1000);
  const rssAfter = rssKb(opts.realtimePid);
  return {
    sockets,
    subscribed: sockets.length,
    failed,
    seconds: +seconds.toFixed(1),
    authPerSecond: Math.round(sockets.length / seconds),
    kbPerSocket: rssBefore && rssAfter ? +((rssAfter - rssBefore) / Math.max(1, sockets.length)).toFixed(1) : null,
  };
}

type Arrivals = Map<string, { first: number; last: number; count: number }>;
/** One side of the fan-out: `publish` sends one event and returns its id; `pid` is the process that fans it out. */
export type FanOutSide = { publish: () => Promise<string>; arrivals: Arrivals; pid: number | undefined };

/**
 * One event to every subscriber: from the first socket that has it to the last (the fan-out
 * itself), and from the request to the last socket; `rounds` times for each side, alternated
 * round by round (ours then bare, then bare then ours, …) so both see the same machine — a
 * block of ours and then a block of bare compared two different moments of a shared machine.
 * Each side's fanning process's CPU (utime + stime) is summed over its rounds, per event. With
 * one side given, its rounds alone (see path.ts: when both sets of sockets do not fit at once).
 */
export async function fanOut(opts: {
  subscribers: number;
  rounds: number;
  sides: Partial<Record<"ours" | "bare", FanOutSide>>;
}) {
  const names = (["ours", "bare"] as const).filter((name) => opts.sides[name]);
  const samples = Object.fromEntries(
    names.map((name) => [name, { spread: [] as number[], total: [] as number[], cpu: 0 }]),
  );
  const one = async (name: "ours" | "bare") => {
    const side = opts.sides[name] as FanOutSide;
    const into = samples[name] as { spread: number[]; total: number[]; cpu: number };
    const cpuBefore = cpuSeconds(side.pid);
    const start = performance.now();
    const id = await side.publish();
    const ok = await waitFor(() => (side.arrivals.get(id)?.count ?? 0) >= opts.subscribers, 30_000, 2);
    const cpuAfter = cpuSeconds(side.pid);
    const a = side.arrivals.get(id);
    if (ok && a) {
      into.spread.push(a.last - a.first);
      into.total.push(a.last - start);
    }
    if (cpuBefore !== null && cpuAfter !== null) into.cpu += cpuAfter - cpuBefore;
    side.arrivals.delete(id);
    await sleep(100);
  };
  for (let r = 0; r < opts.rounds; r++) {
    for (const name of r % 2 === 0 ? names : [...names].reverse()) await one(name);
  }
  return Object.fromEntries(
    Object.entries(samples).map(([name, s]) => [
      name,
      {
        spread: stats(s.spread),
        total: stats(s.total),
        /** CPU of the fanning process per event, ms (clock ticks of 10 ms, summed over the rounds). */
        cpuMs: opts.rounds ? +((s.cpu * 1000) / opts.rounds).toFixed(1) : 0,
      },
    ]),
  ) as Partial<Record<"ours" | "bare", FanOutResult>>;
}
export type FanOutResult = { spread: Stats; total: Stats; cpuMs: number };

/** Whether this process may open `more` sockets and keep `spare` descriptors (Linux; elsewhere assume so). */
export function roomForSockets(more: number, spare = 500) {
  try {
    const limit = Number(/Max open files\s+(\d+)/.exec(fs.readFileSync("/proc/self/limits", "utf8"))?.[1]);
    return fs.readdirSync("/proc/self/fd").length + more + spare <= limit;
  } catch {
    return true;
  }
}

/**
 * Records when each event id reaches a socket: first, last, how many. `frames(idOf)` counts raw
 * frames: every socket of a fan-out gets the same text, so the id is parsed out of the first copy
 * and each further copy only compared with it. Both sides of the fan-out are counted this way:
 * parsing every copy in full made the bench's own client the bottleneck, and ours (a ~1 KB
 * message event, parsed twice) paid more for it than the bare side (a ~100-byte frame) —
 * measured at 1,000 sockets, 1.20× with full parses against 1.06× without (bench/README.md).
 */
export function arrivalLog() {
  const arrivals: Arrivals = new Map();
  const record = (id: string) => {
    const now = performance.now();
    const a = arrivals.get(id);
    if (a) {
      a.last = now;
      a.count++;
    } else arrivals.set(id, { first: now, last: now, count: 1 });
  };
  const frames = (idOf: (text: string) => string | null) => {
    let lastText = "";
    let lastId: string | null = null;
    return (text: string) => {
      if (text !== lastText) {
        lastText = text;
        lastId = idOf(text);
      }
      if (lastId !== null) record(lastId);
    };
  };
  return { arrivals, record, frames };
}

/** `count` bare `ws` clients of the floor server, each frame's text handed to `onFrame`. */
export async function floorSockets(port: number, count: number, onFrame: (text: string) => void) {
  const sockets: WebSocket[] = [];
  for (let i = 0; i < count; i++) {
    const ws = new WebSocket(`ws://127.0.0.1:${port}`);
    await new Promise((r, j) => ws.once("open", r).once("error", j));
    ws.on("message", (frame) => onFrame(String(frame)));
    sockets.push(ws);
  }
  return sockets;
}

/**
 * Reconnect storm: `clients` sockets (players on their own channels, staff on the staff channel),
 * each behaving as the portals do — when the connection drops, try again after the portals' check
 * delays (`reconnectCheckDelayMs`: 0.5 s ±20 %, again until it connects; a portal's check is a
 * socket of its own and then pusher-js's, one handshake more than here),
 * authorize again through the app, and on subscription catch up from the database (players:
 * their thread since the last seq held; staff: the queue). The realtime server is killed and
 * restarted while every player gets a message. Timed from the kill until every client has
 * resubscribed and holds its player's new message; the web process's CPU over that time.
 */
export async function reconnectStorm(opts: {
  base: string;
  wsUrl: string;
  stack: Stack;
  players: Session[];
  staff: Session[];
  clients: number;
  authorize: Authorize;
  /** A player's send during the outage: its outcome (`settle`) and, acknowledged, its seq. */
  sendAsPlayer: (s: Session) => Promise<{ kind: Outcome["kind"]; seq?: number }>;
}) {
  type Client = {
    session: Session;
    staff: boolean;
    lastSeq: number;
    wanted: number;
    done: boolean;
    ws?: WebSocket;
    /** Connection attempts after the kill (the last one got through). */
    attempts: number;
    /** Attempts since its connection was last lost: the next one waits reconnectCheckDelayMs(this). */
    checks: number;
    /**
     * When, after the kill, its socket closed, its last connection attempt started, the server
     * greeted it, its channel was authorized, subscribed, and it had caught up.
     */
    phases: Partial<Record<Phase, number>>;
  };
  type Phase = "closed" | "attempt" | "connected" | "authorized" | "subscribed" | "caughtUp";
  let started = 0;
  const mark = (c: Client, phase: Phase) => {
    if (started) c.phases[phase] = performance.now() - started;
  };
  const clients: Client[] = Array.from({ length: opts.clients }, (_, i) => {
    const staff = i % 100 === 0 && opts.staff.length > 0; // about one staff tab in a hundred
    const session = (staff ? opts.staff[i % opts.staff.length] : opts.players[i % opts.players.length]) as Session;
    return { session, staff, lastSeq: 0, wanted: 0, done: false, attempts: 0, checks: 0, phases: {} };
  });
  let running = true;
  let requests = 0;
  const catchUp = async (c: Client) => {
    for (let attempt = 0; running; attempt++) {
      requests++;
      const res = c.staff
        ? await request(`${opts.base}/api/trpc/staff.queue`, { headers: { cookie: c.session.cookie } }).catch(
            () => null,
          )
        : await request(
            `${opts.base}/api/player-chat-integration/messages/${c.session.playerId}?sinceSeq=${c.lastSeq}&limit=${CATCH_UP_PAGE}`,
            { headers: { cookie: c.session.cookie } },
          ).catch(() => null);
      if (res?.status === 200) {
        if (!c.staff) {
          const body = JSON.parse(res.body) as { messages: Array<{ seq: number }> };
          c.lastSeq = Math.max(c.lastSeq, ...body.messages.map((m) => m.seq));
          // A full page means there is more: read on from there, as a portal does. (After the
          // full run's earlier scenarios a player has hundreds of messages; one page left 70 of
          // 1,000 clients short of the message sent during the outage, for good.)
          if (body.messages.length === CATCH_UP_PAGE) {
            attempt = -1;
            continue;
          }
        }
        c.done = c.staff || c.lastSeq >= c.wanted;
        if (c.done) mark(c, "caughtUp");
        return;
      }
      await sleep(Math.min(5000, 250 * 2 ** attempt));
    }
  };
  const connect = (c: Client): Promise<void> =>
    new Promise((resolve) => {
      const channel = c.staff ? STAFF_CHANNEL : `private-player-${c.session.playerId}`;
      const retry = () => {
        if (!running) return;
        setTimeout(() => void connect(c).then(resolve), reconnectCheckDelayMs(c.checks++));
      };
      if (started) c.attempts++;
      mark(c, "attempt");
      const authorize = opts.authorize(c.session, channel);
      const timedAuthorize = (socketId: string) => {
        mark(c, "connected");
        return authorize(socketId).then((auth) => {
          mark(c, "authorized");
          return auth;
        });
      };
      pusherSocket(opts.wsUrl, channel, timedAuthorize).then(
        (ws) => {
          mark(c, "subscribed");
          c.checks = 0;
          c.ws = ws;
          ws.once("close", () => {
            mark(c, "closed");
            c.done = false;
            retry();
          });
          void catchUp(c).then(resolve);
        },
        () => retry(),
      );
    });
  // Everyone connected and caught up first (not timed).
  for (let i = 0; i < clients.length; i += 50) await Promise.all(clients.slice(i, i + 50).map(connect));

  const cpuBefore = cpuSeconds(opts.stack.web.pid);
  // When the new server said it listens (its first line), as the bench read it.
  let listeningAt = 0;
  const onRealtimeLine = (line: string) => {
    if (!listeningAt && /Pusher protocol 7 server on/.test(line)) listeningAt = performance.now() - started;
  };
  opts.stack.realtime.lineListeners.add(onRealtimeLine);
  started = performance.now();
  await opts.stack.realtime.kill("SIGKILL");
  // While it is down every player gets a message: catching up must bring it.
  // An unacknowledged send leaves its player's clients nothing new to wait for: counted in `sends`.
  const sent = await Promise.all(opts.players.map((p) => opts.sendAsPlayer(p)));
  const sends = { acknowledged: 0, refused: 0, unanswered: 0 };
  for (const { kind } of sent) sends[kind]++;
  opts.players.forEach((p, i) => {
    const seq = sent[i]?.seq ?? 0;
    for (const c of clients) if (!c.staff && c.session === p) c.wanted = seq;
  });
  const sentAt = performance.now() - started;
  await opts.stack.realtime.start();
  const realtimeUpAt = performance.now() - started;
  const realtimeCpuBefore = cpuSecondsWithChildren(opts.stack.realtime.pid);
  const requestsBefore = requests;
  const ok = await waitFor(() => clients.every((c) => c.done), 120_000, 50);
  const seconds = (performance.now() - started) / 1000;
  const cpu = cpuSeconds(opts.stack.web.pid);
  const realtimeCpu = cpuSecondsWithChildren(opts.stack.realtime.pid);
  opts.stack.realtime.lineListeners.delete(onRealtimeLine);
  /** Seconds after the kill until every client (that got there) had reached `phase`. */
  const allBy = (phase: Phase) => +(Math.max(0, ...clients.map((c) => c.phases[phase] ?? 0)) / 1000).toFixed(2);
  /** Seconds after the kill by which half, 90 % and all of the clients had reached `phase`. */
  const spread = (phase: Phase) => {
    const [p50, p90, max] = [0.5, 0.9, 1].map((p) => +(percentile(clients, phase, p) / 1000).toFixed(2));
    return { p50, p90, max };
  };
  /** Per client, seconds from one phase to the next (p50 / p90 / max): where each client's time went. */
  const gap = (from: Phase | "listening", to: Phase) => {
    const s = stats(
      clients.flatMap((c) => {
        const a = from === "listening" ? listeningAt : c.phases[from];
        const b = c.phases[to];
        return a === undefined || b === undefined ? [] : [Math.max(0, b - a) / 1000];
      }),
    );
    return { p50: s.p50, max: s.max };
  };
  running = false;
  for (const c of clients) {
    c.ws?.removeAllListeners("close");
    c.ws?.terminate();
  }
  return {
    clients: clients.length,
    caughtUp: clients.filter((c) => c.done).length,
    complete: ok,
    seconds: +seconds.toFixed(2),
    catchUpRequests: requests - requestsBefore,
    sends,
    webCpuSeconds: cpu !== null && cpuBefore !== null ? +(cpu - cpuBefore).toFixed(2) : null,
    /** Seconds from the kill: messages sent, realtime answering again, then every client through each phase. */
    phases: {
      sent: +(sentAt / 1000).toFixed(2),
      realtimeUp: +(realtimeUpAt / 1000).toFixed(2),
      connected: allBy("connected"),
      authorized: allBy("authorized"),
      subscribed: allBy("subscribed"),
      caughtUp: allBy("caughtUp"),
    },
    /** When the new server printed that it listens, before the bench saw /health answer (realtimeUp). */
    listening: +(listeningAt / 1000).toFixed(2),
    /** Seconds after the kill by which half / 90 % / all clients had reached each phase. */
    spread: Object.fromEntries(
      (["closed", "attempt", "connected", "authorized", "subscribed", "caughtUp"] as const).map((p) => [p, spread(p)]),
    ),
    /**
     * Per client (p50 / max, s): from the server listening to the attempt that got through (the
     * retry timer), then the attempt to its greeting, the greeting to the app's authorization,
     * that to the subscription, and that to having caught up.
     */
    steps: {
      listeningToAttempt: gap("listening", "attempt"),
      attemptToConnected: gap("attempt", "connected"),
      connectedToAuthorized: gap("connected", "authorized"),
      authorizedToSubscribed: gap("authorized", "subscribed"),
      subscribedToCaughtUp: gap("subscribed", "caughtUp"),
    },
    attempts: stats(clients.map((c) => c.attempts)),
    realtimeCpuSeconds:
      realtimeCpu !== null && realtimeCpuBefore !== null ? +(realtimeCpu - realtimeCpuBefore).toFixed(2) : null,
  };
}

/** The `p` quantile of the clients' times for `phase` (ms), over those that reached it. */
function percentile(clients: Array<{ phases: Partial<Record<string, number>> }>, phase: string, p: number) {
  const sorted = clients.flatMap((c) => (c.phases[phase] === undefined ? [] : [c.phases[phase]])).sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? Number.NaN;
}

async function waitFor(check: () => boolean, ms: number, every = 20) {
  const until = performance.now() + ms;
  while (!check()) {
    if (performance.now() > until) return false;
    await sleep(every);
  }
  return true;
}

/** Resident memory of a process and its children (the tsx wrapper runs a server in a child), Linux /proc; or null. */
function rssKb(pid: number | undefined): number | null {
  if (!pid) return null;
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, "utf8"));
    let total = m ? Number(m[1]) : 0;
    for (const dir of fs.readdirSync("/proc")) {
      if (!/^\d+$/.test(dir)) continue;
      let parent = 0;
      try {
        parent = Number(fs.readFileSync(`/proc/${dir}/stat`, "utf8").split(") ")[1]?.split(" ")[1]);
      } catch {} // gone meanwhile
      if (parent === pid) total += rssKb(Number(dir)) ?? 0;
    }
    return total;
  } catch {
    return null;
  }
}

/** The CPU seconds of a process and its children (the tsx wrapper runs a server in a child; the stack now runs the bundle itself), or null. */
function cpuSecondsWithChildren(pid: number | undefined): number | null {
  const own = cpuSeconds(pid);
  if (own === null || !pid) return own;
  try {
    const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(/\s+/).filter(Boolean);
    return children.reduce((sum, child) => sum + (cpuSecondsWithChildren(Number(child)) ?? 0), own);
  } catch {
    return own;
  }
}

/** User + system CPU seconds a process has used (Linux /proc), or null. */
export function cpuSeconds(pid: number | undefined) {
  if (!pid) return null;
  try {
    return statCpuMs(fs.readFileSync(`/proc/${pid}/stat`, "utf8")) / 1000;
  } catch {
    return null;
  }
}

/**
 * CPU milliseconds a process's threads have run, in nanoseconds' resolution: the first field of each
 * thread's /proc `schedstat`, summed. /proc `stat` counts in 10 ms ticks, so a block of 100 requests
 * of ~0.5 ms each reads as 0, 10 or 20 ms there: paired blocks (bench/ab.ts) tie and round. A thread
 * that has exited is no longer listed; Node's threads (libuv's pool, V8's GC helpers) live as long
 * as the process, so a difference over a block holds. Falls back to `stat` where the kernel keeps
 * no schedstat.
 */
export function taskCpuMs(pid: number | undefined) {
  if (!pid) throw new Error("taskCpuMs: the process has no pid (not started, or gone)");
  const fromStat = () => statCpuMs(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  let tasks: string[];
  try {
    tasks = fs.readdirSync(`/proc/${pid}/task`);
  } catch {
    return fromStat();
  }
  let ns = 0;
  for (const task of tasks) {
    try {
      ns += Number(fs.readFileSync(`/proc/${pid}/task/${task}/schedstat`, "utf8").split(" ")[0]);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      // A thread that ended between the listing and the read ran no more: nothing to add.
      if (code === "ENOENT" || code === "ESRCH") continue;
      return fromStat();
    }
  }
  return ns / 1e6;
}

/**
 * CPU milliseconds in a /proc `stat` line (a process's or a thread's): utime + stime, fields 14 and
 * 15, counted here from field 3 (state), after the name, which may itself hold ") ".
 */
export function statCpuMs(stat: string) {
  const fields = stat.slice(stat.lastIndexOf(") ") + 2).split(" ");
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // USER_HZ is 100 on Linux
}
