/**
 * `npx tsx bench/lone-send.ts`: where one request with nothing else in flight spends its time, on
 * the private stack (tests/support/stack.ts, after `npm run build`). One signed-in player and one
 * staff member holding the player's chat, STAFF_SOCKETS (10) sockets on `private-staff-portal`
 * authorized through the app; then, one at a time and alternated in blocks of 50 so every kind sees
 * the same minutes of a shared machine, ROUNDS (6) blocks of each:
 *
 * - `chat.me`, `chat.send` (timed to its answer and to the moment every staff socket has it) and
 *   `staff.reply` over HTTP: round trip, the server's own time (`Server-Timing: app;dur=`,
 *   node-bridge.ts), and the CPU the web and realtime processes spent per request (/proc utime +
 *   stime);
 * - their parts alone: the send's statement (server/chat/send.ts, on its own connection), the
 *   floor's INSERT (bench/floor.ts), `SELECT 1`, and a bare publish of a send's two events (our
 *   publisher, server/realtime/publisher.ts) to the realtime server.
 *
 * Nothing else runs on the stack meanwhile, so the send limit is off (the bench's is in the same
 * statement). Prints p50 / p99 per kind and the load average; compare kinds within one run.
 * BENCH_PORT_BASE (default 6261): Postgres, +1 realtime, +2 web.
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { sql } from "drizzle-orm";
import { connectPostgres } from "@/db/client";
import { playerChannel, STAFF_CHANNEL } from "@/protocol/channels";
import { sendPlayerMessage } from "@/server/chat/send";
import { createPublisher } from "@/server/realtime/publisher";
import { startStack } from "../tests/support/stack";
import { messageOf, pusherSocket, type Reply, request, serverTiming, stats, trpcPost } from "./path";
import { statCpuMs } from "./scenarios";
import { playerWithHeldChat } from "./signed-in-players";

const BLOCK = 50;
const rounds = Number(process.env.ROUNDS ?? 6);
const staffSockets = Number(process.env.STAFF_SOCKETS ?? 10);
const stack = await startStack(Number(process.env.BENCH_PORT_BASE ?? 6261), { PLAYER_SEND_PER_SECOND: "0" });
const handle = connectPostgres(stack.postgres.url, 2);
const sockets: Array<{ close(): void }> = [];
try {
  const { player, member, request: chat } = await playerWithHeldChat(stack, handle.db, "lone");

  // Each staff socket reports the message ids it gets; a send is delivered once all have it.
  const waiting = new Map<string, { seen: Set<number>; done: () => void }>();
  const wsUrl = `ws://127.0.0.1:${stack.env.REALTIME_PORT}/app/${stack.env.PUSHER_KEY}?protocol=7`;
  const authorize = async (socketId: string) => {
    const res = await request(`${stack.url}/api/realtime/auth`, {
      method: "POST",
      headers: { cookie: member.cookie, "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ socket_id: socketId, channel_name: STAFF_CHANNEL }).toString(),
    });
    return JSON.parse(res.body).auth as string;
  };
  for (let i = 0; i < staffSockets; i++) {
    const onEvent = (_event: string, data: string) => {
      const entry = waiting.get(messageOf(data)?.id ?? "");
      if (entry && entry.seen.add(i).size === staffSockets) entry.done();
    };
    sockets.push(await pusherSocket(wsUrl, STAFF_CHANNEL, authorize, onEvent));
  }

  const post = (procedure: string, cookie: string, json: unknown) => trpcPost(stack.url, procedure, cookie, json);
  const delivered: number[] = [];
  /** The send's answer, then (not timed in its round trip) every staff socket having it. */
  const send = async () => {
    const id = randomUUID();
    const started = performance.now();
    const arrived = new Promise<void>((resolve) => {
      const done = () => {
        delivered.push(performance.now() - started);
        waiting.delete(id);
        resolve();
      };
      waiting.set(id, { seen: new Set(), done: staffSockets ? done : () => {} });
    });
    const reply = await post("chat.send", player.cookie, { id, text: "lone" });
    const answered = performance.now();
    if (staffSockets) await arrived;
    return { reply, ms: answered - started };
  };
  await handle.db.execute(
    sql`CREATE TABLE IF NOT EXISTS bench_floor (id uuid PRIMARY KEY, text text NOT NULL, at timestamptz NOT NULL DEFAULT now())`,
  );
  const publisher = createPublisher({
    appId: String(stack.env.PUSHER_APP_ID),
    key: String(stack.env.PUSHER_KEY),
    secret: String(stack.env.PUSHER_SECRET),
    useTLS: false,
    host: "127.0.0.1",
    port: Number(stack.env.REALTIME_PORT),
  });
  // About a send's two events (staff channel, player channel; no socket is on the player's).
  const event = JSON.stringify({ id: randomUUID(), message: "lone", padding: "x".repeat(400) });
  const kinds: Record<string, () => Promise<{ reply?: Reply; ms?: number } | undefined>> = {
    "chat.me": async () => ({
      reply: await request(`${stack.url}/api/trpc/chat.me`, { headers: { cookie: player.cookie } }),
    }),
    "chat.send": send,
    "staff.reply": async () => ({
      reply: await post("staff.reply", member.cookie, { requestId: chat.id, id: randomUUID(), text: "lone" }),
    }),
    "send statement alone": async () => {
      await sendPlayerMessage(handle.db, { id: randomUUID(), text: "lone", player });
      return undefined;
    },
    "floor INSERT alone": async () => {
      await handle.db.execute(sql`INSERT INTO bench_floor (id, text) VALUES (${randomUUID()}, 'lone')`);
      return undefined;
    },
    "SELECT 1": async () => {
      await handle.db.execute(sql`SELECT 1`);
      return undefined;
    },
    "publish alone": async () => {
      await publisher.triggerBatch([
        { channel: STAFF_CHANNEL, name: "lone-send", data: event },
        { channel: playerChannel(0), name: "lone-send", data: event },
      ]);
      return undefined;
    },
  };
  const cpuOf = (pid: number | undefined) => statCpuMs(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  /** The kernel's part (stime, ms): loopback writes deliver to, and wake, the reader inside the writer's call. */
  const sysOf = (pid: number | undefined) =>
    (Number(fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ")[12]) * 1000) / 100;
  const names = Object.keys(kinds);
  const times = Object.fromEntries(names.map((name) => [name, [] as number[]]));
  const server = Object.fromEntries(names.map((name) => [name, [] as number[]]));
  const cpu = Object.fromEntries(names.map((name) => [name, { web: 0, webSys: 0, realtime: 0 }]));
  const load = [os.loadavg()[0]];
  for (let round = -1; round < rounds; round++) {
    for (const [name, call] of Object.entries(kinds)) {
      const web = cpuOf(stack.web.pid);
      const webSys = sysOf(stack.web.pid);
      const realtime = cpuOf(stack.realtime.pid);
      for (let i = 0; i < BLOCK; i++) {
        const started = performance.now();
        const result = await call();
        const ms = result?.ms ?? performance.now() - started;
        if (result?.reply && result.reply.status !== 200) throw new Error(`${name}: HTTP ${result.reply.status}`);
        if (round < 0) continue; // the first block of each is a warm-up
        times[name]?.push(ms);
        const own = result?.reply ? serverTiming(result.reply) : null;
        if (own !== null) server[name]?.push(own);
      }
      if (round < 0) continue;
      const spent = cpu[name];
      if (!spent) continue;
      spent.web += cpuOf(stack.web.pid) - web;
      spent.webSys += sysOf(stack.web.pid) - webSys;
      spent.realtime += cpuOf(stack.realtime.pid) - realtime;
    }
  }
  load.push(os.loadavg()[0]);
  delivered.splice(0, BLOCK); // the warm-up block's
  const p = (values: number[]) => {
    const s = stats(values);
    return `${s.p50} / ${s.p99}`;
  };
  console.log(`load ${load.map((x) => x?.toFixed(2)).join(" → ")}; ${staffSockets} staff sockets; ms, p50 / p99`);
  for (const name of names) {
    const n = times[name]?.length ?? 0;
    const spent = cpu[name] ?? { web: 0, webSys: 0, realtime: 0 };
    const parts = [
      `${name.padEnd(20)} round trip ${p(times[name] ?? [])}`,
      server[name]?.length ? `server ${p(server[name])}` : "",
      `CPU per request: web ${(spent.web / n).toFixed(2)} (kernel ${(spent.webSys / n).toFixed(2)}), realtime ${(spent.realtime / n).toFixed(2)}`,
      name === "chat.send" && staffSockets ? `every staff socket has it ${p(delivered)}` : "",
    ];
    console.log(parts.filter(Boolean).join("; "));
  }
} finally {
  for (const socket of sockets) socket.close();
  await handle.close();
  await stack.stop();
}
