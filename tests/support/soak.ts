/**
 * `npm run soak`: simulated players and staff (HTTP + the official pusher-js, in Node) against the
 * whole app as real processes, with random faults from the fault tests' list, bounded and on
 * loopback only. At the end every client catches up and the invariants are checked and printed.
 */
import { randomUUID } from "node:crypto";
import { hashPassword } from "better-auth/crypto";
import PusherClient, { type Channel } from "pusher-js";
import superjson from "superjson";
import { applyMessage, upsertRequest } from "@/app/_chat/queue-cache";
import { firstGap, mergeMessages } from "@/app/_chat/thread-cache";
import { connectPostgres } from "@/db/client";
import { account, type ChatMessage, type ChatRequest, players, staff, user } from "@/db/schema";
import { EVENTS, playerChannel, SOCKET_ID_HEADER, STAFF_CHANNEL } from "@/protocol/channels";
import { decodeEvent, type MessageEvent, type Queue, type RequestEvent } from "@/protocol/events";
import { type Stack, startStack } from "./stack";

export type SoakOptions = {
  durationMs: number;
  basePort: number;
  players?: number;
  staff?: number;
  /** Pause between one fault's recovery and the next. */
  faultEveryMs?: number;
  faults?: boolean;
  log?: (line: string) => void;
};

export type Invariant = { name: string; ok: boolean; detail: string };
export type SoakReport = {
  ok: boolean;
  invariants: Invariant[];
  faults: string[];
  acknowledged: number;
  sendMs: { p50: number; p99: number; max: number };
};

const PASSWORD = "floorline-soak-password";
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const jitter = (min: number, max: number) => min + Math.random() * (max - min);

type Session = { cookie: string; stack: Stack };

async function signIn(stack: Stack, email: string): Promise<Session> {
  for (;;) {
    try {
      const res = await fetch(`${stack.url}/api/auth/sign-in/email`, {
        method: "POST",
        headers: { "content-type": "application/json", origin: stack.url },
        body: JSON.stringify({ email, password: PASSWORD }),
      });
      if (res.ok)
        return {
          stack,
          cookie: res.headers
            .getSetCookie()
            .map((c) => c.split(";")[0])
            .join("; "),
        };
    } catch {}
    await sleep(500);
  }
}

/** One call; throws `{ status }` on an HTTP error and a plain error when the server is unreachable. */
async function call<T>(s: Session, path: string, init: { body?: unknown; socketId?: string } = {}): Promise<T> {
  const headers: Record<string, string> = { cookie: s.cookie, origin: s.stack.url };
  if (init.body !== undefined) headers["content-type"] = "application/json";
  if (init.socketId) headers[SOCKET_ID_HEADER] = init.socketId;
  const res = await fetch(`${s.stack.url}${path}`, {
    method: init.body === undefined ? "GET" : "POST",
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw Object.assign(new Error(`${path}: HTTP ${res.status}`), { status: res.status });
  return (await res.json()) as T;
}

/** tRPC over plain HTTP (superjson envelope, no batching). */
async function trpc<T>(s: Session, proc: string, input?: unknown, mutation = false): Promise<T> {
  const path = `/api/trpc/${proc}`;
  const body = await (mutation
    ? call<{ result: { data: unknown } }>(s, path, { body: { json: input } })
    : call<{ result: { data: unknown } }>(
        s,
        input === undefined ? path : `${path}?input=${encodeURIComponent(JSON.stringify({ json: input }))}`,
      ));
  return superjson.deserialize<T>(body.result.data as Parameters<typeof superjson.deserialize>[0]);
}

/**
 * A live view of one or more channels, authorized by the app's real endpoint with the session:
 * failed subscriptions are retried with back-off, and every (re)subscription calls `onLive`.
 */
function liveClient(s: Session, realtimePort: number, key: string) {
  const client = new PusherClient(key, {
    cluster: "mt1",
    wsHost: "127.0.0.1",
    wsPort: realtimePort,
    forceTLS: false,
    enabledTransports: ["ws"],
    disableStats: true,
    pongTimeout: 6000,
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, callback) => {
        fetch(`${s.stack.url}/api/realtime/auth`, {
          method: "POST",
          headers: { cookie: s.cookie, "content-type": "application/x-www-form-urlencoded" },
          body: new URLSearchParams({ socket_id: socketId, channel_name: channelName }).toString(),
        })
          .then(async (res) =>
            res.ok ? callback(null, await res.json()) : callback(new Error(`HTTP ${res.status}`), null),
          )
          .catch((err: Error) => callback(err, null));
      },
    },
  });
  const subscribe = (name: string, onLive: () => void) => {
    const channel = client.subscribe(name);
    let attempt = 0;
    channel.bind("pusher:subscription_succeeded", () => {
      attempt = 0;
      onLive();
    });
    channel.bind("pusher:subscription_error", () => {
      setTimeout(() => client.subscribe(name), Math.min(10_000, 500 * 2 ** attempt++)).unref();
    });
    return channel;
  };
  return { client, subscribe };
}

type Thread = { messages: ChatMessage[] };

/** A thread as a client holds it: merged by id, ordered by seq, holes fetched `since`. */
function threadKeeper(fetchSince: (since: number) => Promise<{ messages: ChatMessage[]; hasMore: boolean }>) {
  const thread: Thread = { messages: [] };
  let running: Promise<void> | null = null;
  let again = false;
  const catchUp = (): Promise<void> => {
    if (running) {
      again = true;
      return running;
    }
    running = (async () => {
      do {
        again = false;
        let since = firstGap(thread.messages) ?? thread.messages.at(-1)?.seq ?? 0;
        for (;;) {
          const page = await fetchSince(since);
          thread.messages = mergeMessages(thread.messages, page.messages);
          if (!page.hasMore || page.messages.length === 0) break;
          since = page.messages.at(-1)?.seq ?? since;
        }
      } while (again || firstGap(thread.messages) !== null);
    })()
      .catch(() => {})
      .finally(() => {
        running = null;
      });
    return running;
  };
  const receive = (message: ChatMessage) => {
    thread.messages = mergeMessages(thread.messages, [message]);
    if (firstGap(thread.messages) !== null) void catchUp();
  };
  return { thread, catchUp, receive };
}

type Outgoing = { id: string; text: string; started: number; requestId?: string };

type PlayerSim = {
  id: number;
  session: Session;
  acked: Map<string, string>;
  pending: Outgoing[];
  keeper: ReturnType<typeof threadKeeper>;
  client: PusherClient;
};

type StaffView = {
  client: PusherClient;
  session: Session;
  queue: Queue;
  /** Every soak player's thread as this staff client holds it: rows from the staff channel, holes fetched. */
  threads: Map<number, ReturnType<typeof threadKeeper>>;
  /** Replies acknowledged by the server, and the portal's outbox: unacknowledged replies retried with their id. */
  acked: Map<string, string>;
  pending: Outgoing[];
};

/**
 * Sends the oldest entry of an outbox until it is stored, as the portals' outboxes do: the same id
 * again after a network error or a 5xx; a 4xx other than 429 is a refusal for good (not acknowledged).
 */
async function flushOutbox(
  session: Session,
  outbox: { pending: Outgoing[]; acked: Map<string, string> },
  opts: { sendMs?: number[]; log: (line: string) => void },
) {
  while (outbox.pending.length) {
    const next = outbox.pending[0];
    if (!next) return;
    try {
      await call(session, "/api/unified-chat/send", {
        body: { id: next.id, text: next.text, ...(next.requestId ? { requestId: next.requestId } : {}) },
      });
      outbox.acked.set(next.id, next.text);
      opts.sendMs?.push(performance.now() - next.started);
      outbox.pending.shift();
    } catch (err) {
      const status = (err as { status?: number }).status;
      if (status && status >= 400 && status < 500 && status !== 429) {
        outbox.pending.shift();
        opts.log(`[soak] send refused (${status}): ${next.text}`);
      } else await sleep(500);
    }
  }
}

export async function runSoak(opts: SoakOptions): Promise<SoakReport> {
  const log = opts.log ?? (() => {});
  const playerCount = opts.players ?? 6;
  const staffCount = opts.staff ?? 2;
  const stack = await startStack(opts.basePort);
  const handle = connectPostgres(stack.postgres.url, 4);
  const faults: string[] = [];
  const sendMs: number[] = [];
  const sims: PlayerSim[] = [];
  const staffViews: StaffView[] = [];
  let running = true;
  try {
    // Soak accounts, made the way the demo seed makes its own.
    const hash = await hashPassword(PASSWORD);
    const make = async (role: "player" | "staff", i: number) => {
      const id = randomUUID();
      const email = `soak-${role}-${i}@floorline.test`;
      await handle.db.insert(user).values({ id, name: `Soak ${role} ${i}`, email, emailVerified: true, role });
      await handle.db
        .insert(account)
        .values({ id: randomUUID(), accountId: id, providerId: "credential", userId: id, password: hash });
      if (role === "staff") await handle.db.insert(staff).values({ userId: id, displayName: `Soak staff ${i}` });
      const [p] =
        role === "player"
          ? await handle.db
              .insert(players)
              .values({ userId: id, displayName: `Soak player ${i}` })
              .returning()
          : [];
      return { email, playerId: p?.id };
    };
    const realtimePort = opts.basePort + 1;
    const key = "floorline-faults-key";

    for (let i = 0; i < playerCount; i++) {
      const { email, playerId } = await make("player", i);
      if (!playerId) throw new Error("no player id");
      const session = await signIn(stack, email);
      const keeper = threadKeeper((sinceSeq) =>
        call(session, `/api/player-chat-integration/messages/${playerId}?sinceSeq=${sinceSeq}&limit=200`),
      );
      const live = liveClient(session, realtimePort, key);
      const channel: Channel = live.subscribe(playerChannel(playerId), () => void keeper.catchUp());
      for (const event of [EVENTS.chatMessageReceived, EVENTS.newGreMessage, EVENTS.playerConfirmation]) {
        channel.bind(event, (raw: unknown) => keeper.receive(decodeEvent<MessageEvent>(raw).message));
      }
      live.client.connection.bind("connected", () => void keeper.catchUp());
      sims.push({ id: playerId, session, acked: new Map(), pending: [], keeper, client: live.client });
    }
    for (let i = 0; i < staffCount; i++) {
      const { email } = await make("staff", i);
      const session = await signIn(stack, email);
      const view: StaffView = {
        client: null as unknown as PusherClient,
        queue: [],
        session,
        threads: new Map(),
        acked: new Map(),
        pending: [],
      };
      // The staff portal's thread sync: full rows from the staff channel, holes fetched by staff.threadSince.
      for (const sim of sims) {
        view.threads.set(
          sim.id,
          threadKeeper((sinceSeq) => trpc(session, "staff.threadSince", { playerId: sim.id, sinceSeq, limit: 200 })),
        );
      }
      const catchUpThreads = () => {
        for (const keeper of view.threads.values()) void keeper.catchUp();
      };
      const reload = async () => {
        try {
          const fresh = await trpc<Queue>(session, "staff.queue");
          // Newer-only, as the portal does: a refetch must not undo an event applied meanwhile.
          let merged: Queue | undefined = fresh;
          for (const held of view.queue) merged = upsertRequest(merged, held);
          view.queue = merged ?? fresh;
        } catch {}
      };
      const live = liveClient(session, realtimePort, key);
      // Each (re)subscription: whatever was published before it was live was missed.
      const channel = live.subscribe(STAFF_CHANNEL, () => {
        void reload();
        catchUpThreads();
      });
      const onRequest = (raw: unknown) => {
        view.queue = upsertRequest(view.queue, decodeEvent<RequestEvent>(raw).request) ?? view.queue;
      };
      channel.bind(EVENTS.newChatRequest, onRequest);
      channel.bind(EVENTS.chatRequestUpdated, onRequest);
      channel.bind(EVENTS.chatMessageReceived, (raw: unknown) => {
        const { message, request } = decodeEvent<MessageEvent>(raw);
        view.queue = applyMessage(view.queue, message, request) ?? view.queue;
        view.threads.get(message.playerId)?.receive(message);
      });
      live.client.connection.bind("connected", catchUpThreads);
      view.client = live.client;
      staffViews.push(view);
    }

    // Players: write now and then; the outbox keeps each message (same id) until the server stores it.
    const playerLoop = async (sim: PlayerSim) => {
      let n = 0;
      while (running) {
        await sleep(jitter(300, 1500));
        if (!running) break;
        sim.pending.push({ id: randomUUID(), text: `soak ${sim.id} #${++n}`, started: performance.now() });
        await flush(sim);
      }
    };
    const flush = (sim: PlayerSim) => flushOutbox(sim.session, sim, { sendMs, log });
    const flushStaff = (view: StaffView) => flushOutbox(view.session, view, { log });
    // Staff: take, answer and resolve what they see; conflicts with each other are expected.
    const staffLoop = async (view: StaffView) => {
      while (running) {
        await sleep(jitter(400, 1200));
        const open = view.queue.filter((q) => q.status !== "resolved");
        const target = open[Math.floor(Math.random() * open.length)];
        if (!target) continue;
        const roll = Math.random();
        try {
          if (roll < 0.3) await trpc<ChatRequest>(view.session, "staff.claim", { requestId: target.id }, true);
          else if (roll < 0.8) {
            const text = `staff ${staffViews.indexOf(view)} says hi to ${target.playerId}`;
            view.pending.push({ id: randomUUID(), text, started: performance.now(), requestId: target.id });
            await flushStaff(view);
          } else await trpc<ChatRequest>(view.session, "staff.resolve", { requestId: target.id }, true);
        } catch {}
      }
    };
    const faultLoop = async () => {
      const menu = [
        async () => {
          await stack.realtime.kill("SIGKILL");
          await sleep(jitter(500, 3000));
          await stack.realtime.start();
          return "realtime SIGKILL + restart";
        },
        async () => {
          await stack.web.kill("SIGKILL");
          await sleep(jitter(200, 2000));
          await stack.web.start();
          return "web SIGKILL + restart";
        },
        async () => {
          stack.postgres.stop();
          await sleep(jitter(1000, 5000));
          stack.postgres.start();
          return "Postgres stopped 1–5 s";
        },
      ];
      while (running) {
        await sleep(opts.faultEveryMs ?? 8000);
        if (!running) break;
        const fault = menu[Math.floor(Math.random() * menu.length)];
        if (!fault) continue;
        const started = Date.now();
        const name = await fault();
        faults.push(`${name} (${Date.now() - started} ms)`);
        log(`[soak] fault: ${name}`);
      }
    };

    log(`[soak] ${playerCount} players, ${staffCount} staff, ${Math.round(opts.durationMs / 1000)} s`);
    const loops = [...sims.map(playerLoop), ...staffViews.map(staffLoop), opts.faults === false ? null : faultLoop()];
    await sleep(opts.durationMs);
    running = false;
    await Promise.all(loops);

    // Drain: every outbox empties. Then no forced catch-up: clients must converge by themselves
    // (events, heal on resubscription, gap fetches), within half a minute.
    const drainUntil = Date.now() + 60_000;
    while ([...sims, ...staffViews].some((s) => s.pending.length) && Date.now() < drainUntil) {
      await Promise.all([...sims.map(flush), ...staffViews.map(flushStaff)]);
    }
    const settleUntil = Date.now() + 30_000;
    let report = await check({ handle, sims, staffViews, faults, sendMs });
    while (!report.ok && Date.now() < settleUntil) {
      await sleep(500);
      report = await check({ handle, sims, staffViews, faults, sendMs });
    }
    return report;
  } finally {
    running = false;
    for (const s of sims) s.client.disconnect();
    for (const v of staffViews) v.client?.disconnect();
    await handle.close();
    await stack.stop();
  }
}

async function check(input: {
  handle: ReturnType<typeof connectPostgres>;
  sims: PlayerSim[];
  staffViews: StaffView[];
  faults: string[];
  sendMs: number[];
}): Promise<SoakReport> {
  const { handle, sims, staffViews, faults, sendMs } = input;
  const invariants: Invariant[] = [];
  const add = (name: string, failures: string[], detail: string) =>
    invariants.push({
      name,
      ok: failures.length === 0,
      detail: failures.length ? failures.slice(0, 5).join("; ") : detail,
    });

  const rows = (await handle.db.execute(
    "select id, player_id, seq, message_text, request_id from chat_messages order by player_id, seq",
  )) as unknown as { rows: Array<{ id: string; player_id: number; seq: string; message_text: string }> };
  const all = rows.rows;
  const byId = new Map(all.map((r) => [r.id, r]));
  const senders = [...sims, ...staffViews];
  const acknowledged = senders.reduce((n, s) => n + s.acked.size, 0);

  add(
    "every acknowledged message (players' and staff replies) is stored once, with its text",
    senders.flatMap((s) =>
      [...s.acked].filter(([id, text]) => byId.get(id)?.message_text !== text).map(([id]) => `missing ${id}`),
    ),
    `${acknowledged} acknowledged, all stored`,
  );
  add(
    "every thread's seqs run 1..n with no hole or repeat",
    sims.flatMap((s) => {
      const seqs = all.filter((r) => r.player_id === s.id).map((r) => Number(r.seq));
      return seqs.every((q, i) => q === i + 1) ? [] : [`player ${s.id}: ${seqs.join(",")}`];
    }),
    `${sims.length} threads, ${all.length} messages`,
  );
  add(
    "each player's screen shows its thread once, in order, exactly as stored",
    sims.flatMap((s) => {
      const stored = all.filter((r) => r.player_id === s.id).map((r) => r.id);
      const shown = s.keeper.thread.messages.map((m) => m.id);
      return JSON.stringify(stored) === JSON.stringify(shown)
        ? []
        : [`player ${s.id}: ${shown.length}/${stored.length}`];
    }),
    "all threads match",
  );
  add(
    "each staff client's view of every thread shows it once, in order, exactly as stored",
    staffViews.flatMap((v, i) =>
      sims.flatMap((s) => {
        const stored = all.filter((r) => r.player_id === s.id).map((r) => r.id);
        const shown = v.threads.get(s.id)?.thread.messages.map((m) => m.id) ?? [];
        if (JSON.stringify(stored) === JSON.stringify(shown)) return [];
        const missing = stored.filter((id) => !shown.includes(id)).length;
        return [`staff ${i}, player ${s.id}: shows ${shown.length}/${stored.length} (${missing} missing)`];
      }),
    ),
    `${staffViews.length} staff × ${sims.length} threads match`,
  );
  const open = (await handle.db.execute(
    "select id, player_id, status::text as status, version from chat_requests",
  )) as unknown as { rows: Array<{ id: string; player_id: number; status: string; version: number }> };
  add(
    "at most one open chat per player",
    sims.flatMap((s) => {
      const n = open.rows.filter((r) => r.player_id === s.id && r.status !== "resolved").length;
      return n > 1 ? [`player ${s.id}: ${n} open`] : [];
    }),
    `${open.rows.length} requests`,
  );
  add(
    "each staff queue agrees with the database (status and version of every open chat)",
    staffViews.flatMap((v, i) => {
      const held = new Map(v.queue.map((q) => [q.id, q]));
      return open.rows
        .filter((r) => r.status !== "resolved" && sims.some((s) => s.id === r.player_id))
        .filter((r) => held.get(r.id)?.status !== r.status || held.get(r.id)?.version !== r.version)
        .map((r) => `staff ${i}: ${r.id} is ${r.status} v${r.version}, shows ${held.get(r.id)?.status ?? "nothing"}`);
    }),
    `${staffViews.length} staff views`,
  );
  const sorted = [...sendMs].sort((a, b) => a - b);
  const at = (q: number) => Math.round(sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))] ?? 0);
  return {
    ok: invariants.every((i) => i.ok),
    invariants,
    faults,
    acknowledged,
    sendMs: { p50: at(0.5), p99: at(0.99), max: Math.round(sorted.at(-1) ?? 0) },
  };
}

export function formatReport(report: SoakReport) {
  return [
    `faults (${report.faults.length}): ${report.faults.join(", ") || "none"}`,
    `acknowledged messages: ${report.acknowledged}; send incl. retries p50 ${report.sendMs.p50} ms, p99 ${report.sendMs.p99} ms, max ${report.sendMs.max} ms`,
    ...report.invariants.map((i) => `${i.ok ? "PASS" : "FAIL"}  ${i.name} — ${i.detail}`),
    report.ok ? "soak: all invariants hold" : "soak: INVARIANTS BROKEN",
  ].join("\n");
}
