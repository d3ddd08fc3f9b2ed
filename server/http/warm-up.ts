import { createHmac, randomBytes, randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { sql } from "drizzle-orm";
import { type Db, rowsOf } from "@/db/client";
import type { Auth } from "../auth";
import { findPlayer, findStaff } from "../chat/actors";
import { type OutgoingEvent, playerMessageEvents, staffReplyEvents } from "../chat/announce";
import { WARM_UP_CHANNEL } from "../chat/channels";
import { ChatError } from "../chat/errors";
import { pusherGateway } from "../chat/gateway";
import { messageFromJson, requestFromJson, threadPageJson, threadPageWithReader } from "../chat/messages";
import { sendPlayerMessage } from "../chat/send";
import { listQueue, replyAsStaff } from "../chat/staff";
import type { Publisher } from "../realtime/publisher";
import { sessionByToken } from "../session-row";
import { openWarmUpCaller, WARM_UP_PLAYER_ID, type WarmUpRole } from "../warm-up-caller";
import type { HttpDeps } from "./deps";

/**
 * Work the first requests after a start would otherwise pay, done before the server listens (issue
 * 11: in the first 10 s after start, send → staff was p50 16.6 / p99 600 ms against 8.9 / 106 ms
 * after). The pool's connections are opened now rather than one by one under the first burst, the
 * session check's, the signed-in reads', the send's and the reply's statements are prepared on each
 * (prepareStatements), and each kind of request is answered through the real handler on a private
 * port — modules loaded, schemas built, code compiled: once as an anonymous caller, then `rounds`
 * times signed in as the warm-up's own staff member and player (server/warm-up-caller.ts: a secret
 * of this process, accepted only until this returns, for users no row has). Those render the
 * portals' pages and run staff.queue, the send, a reply and channel authorization past the session
 * check: the reads find nobody's records, and the sends and replies (tRPC and the club's REST
 * routes) find no player or staff row and refuse, so nothing is written. What only a send that
 * succeeds runs is warmed by publishToNobody, on a channel no one can listen to. The session check
 * that caller skips runs once with a cookie for a session nobody has (nobodysSessionCookie):
 * session-cache.ts's lookup of a cookie not held (its signature, then its row), which is also what
 * a real session's first request runs, and better-auth's getSession behind its own /get-session. A
 * failure here is only a slower first minute, and so is a request or a database call that is never
 * answered: the warm-up gives up after `timeoutMs` rather than keep the server from ever listening.
 * Its private port is closed, and its caller forgotten, however it ends.
 */
export async function warmUp(
  handler: http.RequestListener,
  deps: () => Promise<HttpDeps>,
  opts: {
    poolSize: number;
    /** Pages rendered for an anonymous caller. */
    pages: string[];
    /** Pages rendered for the warm-up's staff member and player. */
    signedInPages?: Record<WarmUpRole, string[]>;
    /** How often each signed-in request is made (default SIGNED_IN_ROUNDS). */
    rounds?: number;
    /** How many more times the staff queue is read, signed in as staff (default QUEUE_ROUNDS). */
    queueRounds?: number;
    timeoutMs?: number;
  },
) {
  const started = performance.now();
  // Bounds every wait on the database too: a read waiting on a lock (another instance's migration,
  // say) held the start, and so would a server that takes the connection and never answers.
  const signal = AbortSignal.timeout(opts.timeoutMs ?? WARM_UP_TIMEOUT_MS);
  let server: http.Server | undefined;
  const caller = openWarmUpCaller();
  try {
    const { db, auth, publisher } = await untilAborted(signal, deps());
    const opened = Promise.all(Array.from({ length: opts.poolSize }, () => db.execute(sql`select 1`)));
    await untilAborted(signal, opened);
    await untilAborted(signal, prepareStatements(db, opts.poolSize)).catch((err) =>
      console.error(
        `[floorline] warm-up: statements not prepared: ${err instanceof Error ? err.message : String(err)}`,
      ),
    );
    server = http.createServer(handler);
    const listening = server;
    await new Promise<void>((resolve) => listening.listen(0, "127.0.0.1", resolve));
    const { port } = server.address() as AddressInfo;
    const base = `http://127.0.0.1:${port}`;
    const form = { "content-type": "application/x-www-form-urlencoded", origin: base };
    const json = { "content-type": "application/json", origin: base };
    const requests: [string, RequestInit?][] = [
      ...opts.pages.map((page): [string] => [page]),
      ["/api/trpc/chat.me"],
      ["/api/trpc/chat.send", { method: "POST", headers: json, body: JSON.stringify({ json: { text: "warm-up" } }) }],
      [
        "/api/realtime/auth",
        { method: "POST", headers: form, body: "socket_id=1.1&channel_name=private-staff-portal" },
      ],
      ["/api/realtime/user-auth", { method: "POST", headers: form, body: "socket_id=1.1" }],
      ["/api/player-chat-integration/messages/1?sinceSeq=0"],
      ["/api/auth/get-session"],
    ];
    const nobody = auth ? { cookie: await untilAborted(signal, nobodysSessionCookie(auth)) } : undefined;
    const staff = caller.headers("staff");
    const player = caller.headers("player");
    const staffPages = opts.signedInPages?.staff ?? [];
    const post = (headers: Record<string, string>, body: unknown): RequestInit => ({
      method: "POST",
      headers: { ...json, ...headers },
      body: JSON.stringify(body),
    });
    // Fresh ids each round, as real sends have; the send and the reply refuse before storing them.
    const message = () => ({ id: randomUUID(), text: "warm-up" });
    // The session check the warm-up's caller skips, as a page, tRPC and better-auth's own route
    // ask it (once: it finds no one, and the page only redirects).
    if (nobody) {
      for (const page of staffPages) requests.push([page, { headers: nobody }]);
      requests.push(["/api/trpc/staff.queue", { headers: nobody }], ["/api/auth/get-session", { headers: nobody }]);
    }
    const staffQueue: [string, RequestInit] = ["/api/trpc/staff.queue", { headers: staff }];
    const signedIn = (): [string, RequestInit?][] => [
      ...staffPages.map((page): [string, RequestInit] => [page, { headers: staff }]),
      staffQueue,
      ["/api/trpc/staff.me", { headers: staff }],
      ["/api/trpc/staff.reply", post(staff, { json: { requestId: randomUUID(), ...message() } })],
      // The club's REST sends: the reply statement finds no staff row before it looks at the player.
      ["/api/player-chat-integration/send", post(staff, { playerId: 1, ...message() })],
      ["/api/unified-chat/send", post(staff, { requestId: randomUUID(), ...message() })],
      [
        "/api/realtime/auth",
        { method: "POST", headers: { ...form, ...staff }, body: "socket_id=1.1&channel_name=private-staff-portal" },
      ],
      ["/api/realtime/user-auth", { method: "POST", headers: { ...form, ...staff }, body: "socket_id=1.1" }],
      ...(opts.signedInPages?.player ?? []).map((page): [string, RequestInit] => [page, { headers: player }]),
      ["/api/trpc/chat.me", { headers: player }],
      ["/api/trpc/chat.send", post(player, { json: message() })],
      ["/api/unified-chat/send", post(player, message())],
      [
        "/api/realtime/auth",
        {
          method: "POST",
          headers: { ...form, ...player },
          body: `socket_id=1.1&channel_name=private-player-${WARM_UP_PLAYER_ID}`,
        },
      ],
    ];
    // Anonymous once: loading and first compiles are the cost there. Signed in a few times: the
    // staff page's render cost a fresh process ~300 ms of CPU the first time and 80–210 ms for the
    // next few while V8 optimised (bench/README.md); every round here is a start slower.
    const rounds = opts.rounds ?? SIGNED_IN_ROUNDS;
    for (let round = 0; round < rounds; round++) requests.push(...signedIn());
    for (let round = 0; round < (opts.queueRounds ?? QUEUE_ROUNDS); round++) requests.push(staffQueue);
    for (let round = 0; round < THREAD_ROUNDS; round++)
      requests.push([WARM_UP_THREAD, { headers: staff }], [`${WARM_UP_THREAD}?before=2&limit=50`, { headers: staff }]);
    // A redirect (a page for nobody) is answer enough: following it would render /sign-in again.
    for (const [target, init] of requests) {
      await (await fetch(`${base}${target}`, { ...init, redirect: "manual", signal })).arrayBuffer();
    }
    if (publisher) {
      await untilAborted(signal, publishToNobody(db, publisher, rounds)).catch((err) =>
        console.error(`[floorline] warm-up: nothing published: ${err instanceof Error ? err.message : String(err)}`),
      );
    }
    console.log(`[floorline] warmed up in ${Math.round(performance.now() - started)} ms`);
  } catch (err) {
    console.error(`[floorline] warm-up skipped: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    // Before serve.ts listens: from here the warm-up's secret is nobody's.
    caller.close();
    // Also drops a connection still waiting for an answer, so nothing of the warm-up outlives it.
    server?.close();
    server?.closeAllConnections();
  }
}

/**
 * The statements behind the session check (a session's row by its token, session-row.ts), the
 * signed-in reads (the caller's records, a thread page, the staff queue), the send and the reply
 * are prepared per connection, and the warm-up's anonymous requests stop before them: the first
 * such read on each pooled connection parsed and planned its statement on a backend whose caches
 * were cold (thread pages at 1,000,000 messages, the first 41 after a start, 10 at once, load 8:
 * 173 ms of Postgres time without this, 57 ms with it; bench/README.md). The warm-up's own
 * signed-in sends and replies come one at a time, so they prepared theirs on one connection only;
 * each other connection's first send parsed it (~0.14 ms). Each runs once on every connection (as
 * many at once as the pool holds, so each takes its own), for an empty session token, a user id
 * nobody has and player id 0 (serial ids start at 1): no one's session, records or messages are
 * found, the queue is read and dropped, and the send and the reply refuse first thing (`no_player`,
 * `no_staff`: their functions look the caller up before anything else). Nothing is written. One run
 * each: the plan Postgres settles on after five executions is left to real requests, whose values
 * it should be chosen for.
 */
async function prepareStatements(db: Db, connections: number) {
  const onEvery = (read: () => Promise<unknown>) => Promise.all(Array.from({ length: connections }, read));
  await onEvery(() => sessionByToken(db, ""));
  await onEvery(() => findPlayer(db, { id: "", role: "player" }));
  await onEvery(() => findStaff(db, { id: "", role: "staff" }));
  await onEvery(() => threadPageWithReader(db, { playerId: 0, userId: "", limit: 1 }));
  await onEvery(() => threadPageJson(db, { playerId: 0, limit: 1 }));
  await onEvery(() => listQueue(db));
  const message = () => ({ id: randomUUID(), text: "warm-up" });
  await onEvery(() => refused(sendPlayerMessage(db, { ...message(), player: { userId: "" } })));
  await onEvery(() => refused(replyAsStaff(db, { ...message(), requestId: randomUUID(), staff: { userId: "" } })));
  await readFoundRecords(db);
}

/**
 * The session check's and the caller lookups' reads as they run when they find a row, which the
 * reads above (for nobody) and the warm-up's own caller (its records made in warm-up-caller.ts)
 * never do: a live session's row and user by its token (session-row.ts), a player's and a
 * staff member's records by their user id (actors.ts), each read and dropped — no entry is cached
 * and nothing is written or changed (session-cache.ts's rule, which may extend or delete a session,
 * is not run). Without it the first signed-in request after a start was the first to decode a found
 * row of these statements (drizzle's mapping of the session and its user, the records' rows); a
 * profile of first requests showed our part of them at 2–3× a warm one's (bench/README.md "The
 * first signed-in request after a start, taken apart", where what this saved is not yet told
 * apart from the noise). A database with no such row yet (a fresh start) has nobody whose first
 * request would pay it.
 */
async function readFoundRecords(db: Db) {
  const [found] = await rowsOf<{ token: string | null; player: string | null; staff: string | null }>(
    db,
    sql`select (select token from session where expires_at > now() limit 1) as token,
      (select user_id from players order by id limit 1) as player,
      (select user_id from staff limit 1) as staff`,
  );
  if (found?.token) await sessionByToken(db, found.token);
  if (found?.player) await findPlayer(db, { id: found.player, role: "player" });
  if (found?.staff) await findStaff(db, { id: found.staff, role: "staff" });
}

/** Settles when `write` was refused as a caller with no record is; anything else is the warm-up's failure. */
async function refused(write: Promise<unknown>) {
  const outcome = await write.then(
    () => new Error("a warm-up write was not refused"),
    (err: unknown) => err,
  );
  if (!(outcome instanceof ChatError && outcome.code === "FORBIDDEN")) throw outcome;
}

/**
 * What only a send that succeeds runs after its statement, which the warm-up's refused sends never
 * reach: the statement's rows decoded (messages.ts), a player's message and a staff reply built into
 * their events (announce.ts), serialised and batched by a gateway (gateway.ts) and posted by the
 * real publisher — its signing, its keep-alive agent's first socket, and the realtime server's
 * publish path. Without it the first real sends paid all of that (issue 11: the slowest first-10-s
 * sends started in the first second). The rows are the warm-up player's (WARM_UP_PLAYER_ID, no one's), made by
 * Postgres from JSON without touching a table, so they have a stored row's shape; every event
 * goes to WARM_UP_CHANNEL, which no one can be authorized for (channels.ts), not to the channels it
 * was built for. A gateway of its own, whose code is the app's, so nothing the real one holds or
 * retries is the warm-up's: it gives up at the first failure (a realtime server not up yet).
 */
async function publishToNobody(db: Db, publisher: Publisher, rounds: number) {
  const now = new Date().toISOString();
  const request = {
    id: randomUUID(),
    player_id: WARM_UP_PLAYER_ID,
    player_name: "Warm-up",
    initial_message: "warm-up",
    status: "waiting",
    created_at: now,
    last_message_at: now,
    version: 1,
    unread_count: 1,
  };
  const message = {
    id: randomUUID(),
    request_id: request.id,
    player_id: WARM_UP_PLAYER_ID,
    seq: 1,
    sender: "player",
    sender_name: "Warm-up",
    message_text: "warm-up",
    timestamp: now,
    status: "sent",
  };
  // A select of two records built from JSON: no table is read or written, no sequence moves.
  const [stored] = await rowsOf<{ message: unknown; request: unknown }>(
    db,
    sql`select to_jsonb(jsonb_populate_record(null::chat_messages, ${JSON.stringify(message)}::jsonb)) as message,
      to_jsonb(jsonb_populate_record(null::chat_requests, ${JSON.stringify(request)}::jsonb)) as request`,
  );
  if (!stored) return;
  const sent = { message: messageFromJson(stored.message), request: requestFromJson(stored.request) };
  let failed: string | undefined;
  const gateway = pusherGateway(publisher, {
    retryAttempts: 0,
    log: (msg) => {
      failed ??= msg;
    },
  });
  const toNobody = (events: OutgoingEvent[]) => events.map((e) => ({ ...e, channel: WARM_UP_CHANNEL }));
  for (let round = 0; round < rounds && !failed; round++) {
    gateway.publish(toNobody(playerMessageEvents({ ...sent, openedRequest: true })));
    gateway.publish(toNobody(staffReplyEvents({ ...sent, message: { ...sent.message, sender: "staff" } })));
    await gateway.idle();
  }
  if (failed) throw new Error(failed);
}

/**
 * A session cookie signed as better-auth signs its own (better-call's format: the token, ".", the
 * base64 HMAC-SHA-256 of the token under the auth secret, URI-encoded) for a random token no session
 * has. A request with it goes through the whole session check — cookie read, signature verified,
 * session row looked up and not found — which the warm-up's own caller skips: without it the first
 * signed-in request after a start paid that code's loading and compiling. A session that exists
 * takes the same path (session-cache.ts), its row found instead, so nothing is written to warm it.
 */
async function nobodysSessionCookie(auth: Auth) {
  const context = await auth.$context;
  const token = randomBytes(24).toString("base64url");
  const signature = createHmac("sha256", context.secret).update(token).digest("base64");
  return `${context.authCookies.sessionToken.name}=${encodeURIComponent(`${token}.${signature}`)}`;
}

/** `work`, or its end when `signal` aborts first (the work goes on, and its failure is dropped). */
function untilAborted<T>(signal: AbortSignal, work: Promise<T>) {
  if (signal.aborted) return Promise.reject(signal.reason);
  return Promise.race([
    work,
    new Promise<never>((_, reject) => signal.addEventListener("abort", () => reject(signal.reason), { once: true })),
  ]);
}

/**
 * Three: the first round carries most of the cost and of the gain (the first /staff and /player
 * renders, ~0.3 and ~0.17 s of a start at load 4–5); the next two, 0.1–0.25 s each, take the
 * pages through V8's first optimisations (bench/README.md, "The warm-up signed in").
 */
const SIGNED_IN_ROUNDS = 3;

/**
 * The staff queue is the signed-in read with many rows (~120: every open chat and the recently
 * resolved), read as the real queue is, since the queue is everyone's. With three reads, V8 was still
 * optimising its path — the pg driver's row decoding, the rows' mapping, the answer's serialisation
 * — during the first 30 queue requests after a start (`BENCH_V8_FLAGS=--trace-opt`, bench/README.md
 * "The queue's first pass after a start"); these reads move that before the server listens.
 */
export const QUEUE_ROUNDS = 30;

/**
 * The staff thread page (REST), latest and older, read by the warm-up's staff member: the club's
 * first player's, whose rows that reader is never given (mayReadThreadSql: no staff row has it).
 * It goes past the access check to the page's answer (empty; 404 where player 1 does not exist).
 */
export const WARM_UP_THREAD = "/api/player-chat-integration/messages/1";

/**
 * A staff portal opens a thread on every chat it looks at, and the bench reads 1,000 pages a pass:
 * with the warm-up's anonymous read only, the first real page after a start ran its route's code
 * uncompiled (5.7 ms server time against ~1 ms warm at 1,000,000 messages) and the first pass's
 * p99 was 5.11 ms against 3.68 after (bench/README.md "A thread read's first pass after a start").
 */
export const THREAD_ROUNDS = 50;

/** Generous: a warm-up takes well under a second on this machine; this only bounds a hang. */
const WARM_UP_TIMEOUT_MS = 20_000;
