/**
 * Send → delivery latency of the chat path, with real parts:
 *   sendAsPlayer (one transaction on Postgres or PGlite) → official `pusher` SDK (batch publish)
 *   → our realtime server (its own process) → WebSocket clients.
 * Scenario (DESIGN.md): CLIENTS sockets connected, STAFF of them on the staff channel, SENDERS
 * players each sending one message per second for SECONDS. Latency = from the call to the
 * moment every staff socket has the message (the slowest staff socket counts).
 *
 *   npm run bench                                   # PGlite in memory
 *   DATABASE_URL=postgres://postgres@127.0.0.1/test npm run bench
 *   CLIENTS=1000 STAFF=10 SENDERS=100 SECONDS=20 npm run bench
 *   CLUSTER=1 npm run bench     # two nodes on Redis: publish to node A, every socket on node B
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import type WebSocket from "ws";
import { connectPostgres, openPglite } from "@/db/client";
import { migrate } from "@/db/migrate";
import { players, staff, user } from "@/db/schema";
import { sendAsPlayer } from "@/server/chat/actions";
import { pusherGateway } from "@/server/chat/gateway";
import { createPublisher } from "@/server/realtime/publisher";
import { APP, socket, startRealtimeSetup } from "./realtime";

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const CLIENTS = num("CLIENTS", 1000);
const STAFF = num("STAFF", 10);
const SENDERS = num("SENDERS", 100);
const SECONDS = num("SECONDS", 20);
const PORT = num("BENCH_REALTIME_PORT", 6801);

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;

async function main() {
  const handle = process.env.DATABASE_URL ? connectPostgres(process.env.DATABASE_URL, 20) : openPglite();
  await migrate(handle);
  const realtime = await startRealtimeSetup(PORT, CLIENTS + 100);
  const publisher = createPublisher({ ...APP, host: "127.0.0.1", port: realtime.publishPort, useTLS: false });
  const deps = { db: handle.db, realtime: pusherGateway(publisher) };

  const runId = randomUUID().slice(0, 8);
  const senders = [];
  for (let i = 0; i < SENDERS; i++) {
    const id = `bench-${runId}-${i}`;
    await handle.db.insert(user).values({ id, name: `P${i}`, email: `${id}@bench.test`, role: "player" });
    const [p] = await handle.db
      .insert(players)
      .values({ userId: id, displayName: `P${i}` })
      .returning();
    if (p) senders.push(p);
  }
  const staffId = `bench-${runId}-staff`;
  await handle.db.insert(user).values({ id: staffId, name: "S", email: `${staffId}@bench.test`, role: "staff" });
  await handle.db.insert(staff).values({ userId: staffId, displayName: "S" });

  // Each message counts as delivered when the last staff socket has it.
  const pending = new Map<string, { start: number; seen: number }>();
  const latencies: number[] = [];
  const onStaffEvent = (event: string, data: string) => {
    if (event !== "chat-message-received") return;
    const id = JSON.parse(data).id as string; // plain JSON, the seed's fields at the top level
    const entry = pending.get(id);
    if (!entry) return;
    if (++entry.seen === STAFF) {
      latencies.push(performance.now() - entry.start);
      pending.delete(id);
    }
  };
  const sockets: WebSocket[] = [];
  const clientPort = realtime.clientPort;
  for (let i = 0; i < STAFF; i++) sockets.push(await socket(clientPort, "private-staff-portal", onStaffEvent));
  for (const p of senders) sockets.push(await socket(clientPort, `private-player-${p.id}`));
  while (sockets.length < CLIENTS) sockets.push(await socket(clientPort, null));
  console.log(`connected ${sockets.length} sockets (${STAFF} staff, ${SENDERS} players); sending for ${SECONDS}s`);

  let sent = 0;
  let failed = 0;
  const started = performance.now();
  const until = started + SECONDS * 1000;
  await Promise.all(
    senders.map(async (player, i) => {
      // Spread the senders over the second so load is steady, not a burst per tick.
      await new Promise((r) => setTimeout(r, (i * 1000) / SENDERS));
      for (let next = performance.now(); next < until; next += 1000) {
        const id = randomUUID();
        pending.set(id, { start: performance.now(), seen: 0 });
        try {
          await sendAsPlayer(deps, { id, text: `hello ${sent}`, player });
          sent++;
        } catch {
          failed++;
          pending.delete(id);
        }
        await new Promise((r) => setTimeout(r, Math.max(0, next + 1000 - performance.now())));
      }
    }),
  );
  const drainUntil = performance.now() + 5000;
  while (pending.size > 0 && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 20));
  const elapsed = (performance.now() - started) / 1000;

  latencies.sort((a, b) => a - b);
  const result = {
    database: handle.kind,
    realtime: realtime.label,
    clients: sockets.length,
    staff: STAFF,
    senders: SENDERS,
    seconds: SECONDS,
    sent,
    failed,
    undelivered: pending.size,
    throughputPerSecond: Math.round(sent / elapsed),
    latencyMs: {
      p50: +percentile(latencies, 50).toFixed(2),
      p95: +percentile(latencies, 95).toFixed(2),
      p99: +percentile(latencies, 99).toFixed(2),
      max: +(latencies.at(-1) ?? NaN).toFixed(2),
    },
  };
  console.log(JSON.stringify(result, null, 2));

  for (const s of sockets) s.terminate();
  for (const child of realtime.children) child.kill("SIGTERM");
  await handle.close();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
