/**
 * `BASE=/path/to/other/checkout npx tsx bench/ab.ts`: one code change's cost per request, both builds
 * at once. Two private stacks (tests/support/stack.ts, each the production build of its checkout:
 * A from BASE, which needs its own `npm ci` and `npm run build`; B from this checkout), one signed-in
 * player and one staff member holding that player's chat on each; then, for ROUNDS (30) rounds, for
 * each of KINDS (chat.me,chat.send,staff.reply; also staff.first, staff.page and thread.page), a block of BLOCK (100) sequential requests on A and
 * one on B (B first in odd rounds), reading each block's web CPU (its threads' run time in ns,
 * `taskCpuMs`). On a shared machine the load moves between blocks, not within a pair: the B − A
 * difference per block pair shows a 0.1 ms change that separate runs (±20 %) hide. WARMUP (1000)
 * requests of each kind on each side first. `staff.first` is a staff member's first reply, by
 * requestId, to a chat still waiting (the reply takes it): before each of its blocks, outside the
 * measured time, BLOCK players each open a new waiting chat (their last one resolved in the
 * database). `staff.page` is the staff page (`/staff`, HTML) rendered for that staff member;
 * `thread.page` the player's latest 50 messages as that staff member reads them (REST), the thread
 * filled to 120 messages first.
 *
 * Prints per kind and side the CPU per request (mean over blocks, median block), the server's own
 * time p50 (`Server-Timing`) and the round trip p50 (ms), then per kind B − A per block pair
 * (median, mean, in how many pairs B was lower and higher), with the load average at start and end. Exits 1 if
 * any request was not answered 200. BENCH_PORT_BASE (default 6261): A's Postgres, +1 realtime, +2
 * web; B's the same from +5. GAP_MS (0) waits that long after each measured request, inside its
 * block, so each comes alone to a process that went idle, as the latency scenario's paced sends do
 * (100 players at 1/s: one every 10 ms); the idle time's CPU is in both sides' blocks alike.
 */
import { randomUUID } from "node:crypto";
import { sql } from "drizzle-orm";
import { sendPlayerMessage } from "@/server/chat/send";
import { type Reply, request, serverTiming, sleep, stats, trpcPost } from "./path";
import { taskCpuMs } from "./scenarios";
import { type SignedIn, signedInPlayers } from "./signed-in-players";
import { type Side as Built, fillThread, load, twoBuilds } from "./two-builds";

const block = Number(process.env.BLOCK ?? 100);
const rounds = Number(process.env.ROUNDS ?? 30);
const warmup = Number(process.env.WARMUP ?? 1000);
const kinds = (process.env.KINDS ?? "chat.me,chat.send,staff.reply").split(",");
const gapMs = Number(process.env.GAP_MS ?? 0);

type Side = Built & {
  chat: string;
  playerId: number;
  /** staff.first: the players who open a waiting chat before each block, and those chats. */
  pool: SignedIn[];
  waiting: string[];
};
const { sides: built, stopAll } = await twoBuilds("ab");
const failures: string[] = [];
try {
  const sides: Side[] = [];
  for (const side of built) {
    const { name, stack, handle, player, member } = side;
    // The staff member holds the player's chat: every measured reply is one it may make. Taken in
    // SQL, not by this checkout's claim: the two builds' migrations may differ, the rows may not.
    const opened = await sendPlayerMessage(handle.db, { id: randomUUID(), text: "help", player });
    await handle.db.execute(sql`update chat_requests set status = 'in_progress', assigned_staff_id = ${member.userId},
      claimed_at = now() where id = ${opened.request.id}`);
    // No capacity limit in the way of staff.first's claims.
    await handle.db.execute(sql`update staff set max_concurrent_chats = 1000000 where user_id = ${member.userId}`);
    const pool = kinds.includes("staff.first")
      ? await signedInPlayers(stack, handle.db, block, `ab-${name.toLowerCase()}-first`)
      : [];
    if (kinds.includes("thread.page")) await fillThread(handle.db, opened.request, 120);
    sides.push({ ...side, chat: opened.request.id, playerId: opened.request.playerId, pool, waiting: [] });
  }
  const post = (side: Side, procedure: string, cookie: string, json: unknown) =>
    trpcPost(side.stack.url, procedure, cookie, json);
  const calls: Record<string, (side: Side) => Promise<Reply>> = {
    "chat.me": (side) => request(`${side.stack.url}/api/trpc/chat.me`, { headers: { cookie: side.player.cookie } }),
    "chat.send": (side) => post(side, "chat.send", side.player.cookie, { id: randomUUID(), text: "measured" }),
    "staff.reply": (side) =>
      post(side, "staff.reply", side.member.cookie, { requestId: side.chat, id: randomUUID(), text: "measured" }),
    // The player's latest page of 50 as the staff member reads it (REST; the thread filled to 120 first).
    "thread.page": (side) =>
      request(`${side.stack.url}/api/player-chat-integration/messages/${side.playerId}`, {
        headers: { cookie: side.member.cookie },
      }),
    // The staff page as a browser loads it (HTML): its session check, settings and prefetches.
    "staff.page": (side) => request(`${side.stack.url}/staff`, { headers: { cookie: side.member.cookie } }),
    "staff.first": (side) => {
      const requestId = side.waiting.pop();
      if (!requestId) throw new Error("staff.first: no waiting chat left; prepare() runs before each block");
      return post(side, "staff.reply", side.member.cookie, { requestId, id: randomUUID(), text: "measured" });
    },
  };
  /** Before a block of `kind` on `side` (unmeasured): staff.first's waiting chats. */
  const prepare = async (kind: string, side: Side) => {
    if (kind !== "staff.first") return;
    const ids = sql.join(
      side.pool.map((p) => sql`${p.userId}`),
      sql`, `,
    );
    await side.handle.db.execute(sql`update chat_requests set status = 'resolved', resolved_at = now()
      where status <> 'resolved' and player_id in (select id from players where user_id in (${ids}))`);
    side.waiting = [];
    for (const player of side.pool)
      side.waiting.push(
        (await sendPlayerMessage(side.handle.db, { id: randomUUID(), text: "first", player })).request.id,
      );
  };
  const call = (kind: string) => {
    const c = calls[kind];
    if (!c) throw new Error(`unknown kind ${kind}: KINDS is a list of ${Object.keys(calls).join(", ")}`);
    return c;
  };
  const cpuMs = (side: Side) => taskCpuMs(side.stack.web.pid);
  // Warm-up: JIT, pool, prepared statements.
  for (const side of sides)
    for (const kind of kinds)
      for (let i = 0; i < warmup; i++) {
        if (i % block === 0) await prepare(kind, side);
        const reply = await call(kind)(side);
        if (reply.status !== 200)
          throw new Error(`warm-up ${kind} on ${side.name}: HTTP ${reply.status} ${reply.body}`);
      }
  type Result = { cpu: number[]; server: number[]; roundTrip: number[]; failed: number };
  const results: Record<string, Result> = {};
  for (let r = 0; r < rounds; r++)
    for (const kind of kinds)
      for (const side of r % 2 ? [...sides].reverse() : sides) {
        const key = `${kind} ${side.name}`;
        results[key] ??= { cpu: [], server: [], roundTrip: [], failed: 0 };
        const result = results[key];
        await prepare(kind, side);
        const before = cpuMs(side);
        for (let i = 0; i < block; i++) {
          const t = performance.now();
          const reply = await call(kind)(side);
          result.roundTrip.push(performance.now() - t);
          if (reply.status !== 200) {
            result.failed++;
            failures.push(`${key}: HTTP ${reply.status} ${reply.body.slice(0, 200)}`);
          }
          const own = serverTiming(reply);
          if (own !== null) result.server.push(own);
          if (gapMs > 0) await sleep(gapMs);
        }
        result.cpu.push((cpuMs(side) - before) / block);
      }
  const median = (xs: number[]) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return +(sorted[Math.floor(sorted.length / 2)] ?? Number.NaN).toFixed(3);
  };
  const mean = (xs: number[]) => +(xs.reduce((a, b) => a + b, 0) / xs.length).toFixed(3);
  const gap = gapMs > 0 ? `, ${gapMs} ms apart` : "";
  console.log(`${block} sequential requests a block${gap}, ${rounds} blocks a side; ms`);
  for (const [key, v] of Object.entries(results))
    console.log(
      key,
      JSON.stringify({
        n: v.roundTrip.length,
        failed: v.failed,
        blocks: v.cpu.length,
        cpuMeanMs: mean(v.cpu),
        cpuBlockMedianMs: median(v.cpu),
        serverP50: v.server.length ? stats(v.server).p50 : null,
        roundTripP50: stats(v.roundTrip).p50,
      }),
    );
  console.log("B − A: web CPU per request, per block pair (ms)");
  for (const kind of kinds) {
    const a = results[`${kind} A`]?.cpu ?? [];
    const d = (results[`${kind} B`]?.cpu ?? []).map((b, i) => b - (a[i] ?? Number.NaN));
    // A tie (equal to the nanosecond) is counted apart from either side's wins.
    const bLowerIn = d.filter((x) => x < 0).length;
    const bHigherIn = d.filter((x) => x > 0).length;
    console.log(
      `${kind} B − A`,
      JSON.stringify({ median: median(d), mean: mean(d), bLowerIn, bHigherIn, of: d.length }),
    );
  }
  console.log("end", JSON.stringify({ at: new Date().toISOString(), load: load() }));
} finally {
  await stopAll();
}
if (failures.length) {
  console.error(`${failures.length} requests not answered 200, e.g.\n${failures.slice(0, 5).join("\n")}`);
  process.exitCode = 1;
}
