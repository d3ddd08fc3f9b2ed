/**
 * Realtime throughput: PUBLISHERS closed loops publish through the official `pusher` SDK (one
 * event per request, keep-alive agent) to one channel with SUBSCRIBERS raw sockets, for SECONDS.
 * Reports events published per second and deliveries per second. With CLUSTER=1 the publishers
 * and the subscribers are split over two nodes on Redis, so half of the work crosses nodes.
 *
 *   npx tsx bench/throughput.ts
 *   CLUSTER=1 npx tsx bench/throughput.ts
 *   PUBLISHERS=32 SUBSCRIBERS=50 SECONDS=10 npx tsx bench/throughput.ts
 */
import { performance } from "node:perf_hooks";
import type WebSocket from "ws";
import { createPublisher } from "@/server/realtime/publisher";
import { APP, socket, startRealtimeSetup } from "./realtime";

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const PUBLISHERS = num("PUBLISHERS", 32);
const SUBSCRIBERS = num("SUBSCRIBERS", 50);
const SECONDS = num("SECONDS", 10);
const PORT = num("BENCH_REALTIME_PORT", 6801);

async function main() {
  const realtime = await startRealtimeSetup(PORT, SUBSCRIBERS + 100);
  let delivered = 0;
  const sockets: WebSocket[] = [];
  for (let i = 0; i < SUBSCRIBERS; i++) {
    const port = realtime.ports[i % realtime.ports.length] ?? PORT;
    sockets.push(await socket(port, "lobby", () => delivered++));
  }
  const publishers = realtime.ports.map((port) => createPublisher({ ...APP, host: "127.0.0.1", port, useTLS: false }));
  let published = 0;
  const until = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: PUBLISHERS }, async (_, i) => {
      const sdk = publishers[i % publishers.length];
      while (sdk && performance.now() < until) {
        await sdk.trigger("lobby", "tick", { i, n: published });
        published++;
      }
    }),
  );
  // Let what is in flight arrive before counting.
  const expected = published * SUBSCRIBERS;
  const drainUntil = performance.now() + 5000;
  while (delivered < expected && performance.now() < drainUntil) await new Promise((r) => setTimeout(r, 20));
  console.log(
    JSON.stringify(
      {
        realtime: realtime.label.replace("publish → node A, clients on node B", "publishers and subscribers on both"),
        publishers: PUBLISHERS,
        subscribers: SUBSCRIBERS,
        seconds: SECONDS,
        publishedPerSecond: Math.round(published / SECONDS),
        deliveriesPerSecond: Math.round(delivered / SECONDS),
        undelivered: expected - delivered,
      },
      null,
      2,
    ),
  );
  for (const s of sockets) s.terminate();
  for (const child of realtime.children) child.kill("SIGTERM");
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
