/**
 * `npx tsx bench/far-publish.ts`: the gateway against a far realtime server (hosted Pusher, 50–100 ms
 * a round trip). Sends no longer wait for their publish, so this is an open loop: RATE (1000) sends
 * a second for SECONDS (5), each a send's two events (staff and player channel, PLAYERS (100)
 * players), through the official SDK against a local stand-in for the batch API that answers each
 * request after DELAY ms (75), in LANES (2) lanes. Prints events per second handed out, publish
 * requests, the most requests open at once, batches dropped, and how long the backlog took to
 * drain after the last send.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { pusherGateway } from "@/server/chat/gateway";
import { createPublisher } from "@/server/realtime/publisher";

const DELAY = Number(process.env.DELAY ?? 75);
const RATE = Number(process.env.RATE ?? 1000);
const SECONDS = Number(process.env.SECONDS ?? 5);
const PLAYERS = Number(process.env.PLAYERS ?? 100);
const LANES = Number(process.env.LANES ?? 2);

const seen = { requests: 0, events: 0, open: 0, maxOpen: 0 };
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on("data", (c: Buffer) => chunks.push(c));
  req.on("end", () => {
    seen.requests++;
    seen.open++;
    seen.maxOpen = Math.max(seen.maxOpen, seen.open);
    seen.events += (JSON.parse(Buffer.concat(chunks).toString()) as { batch: unknown[] }).batch.length;
    setTimeout(() => {
      seen.open--;
      res.writeHead(200, { "content-type": "application/json" });
      res.end("{}");
    }, DELAY);
  });
});
await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
const { port } = server.address() as AddressInfo;
const publisher = createPublisher({
  appId: "far",
  key: "far-key",
  secret: "far-secret-far-secret",
  host: "127.0.0.1",
  port,
  useTLS: false,
  timeoutMs: 10_000,
});
const logs: string[] = [];
const gateway = pusherGateway(publisher, { idempotencyKeys: false, lanes: LANES, log: (m) => logs.push(m) });
const started = performance.now();
let made = 0;
// Every 10 ms, the sends due by now: the rate holds even when a tick comes late.
await new Promise<void>((resolve) => {
  const tick = setInterval(() => {
    const due = Math.min(RATE * SECONDS, Math.floor(((performance.now() - started) / 1000) * RATE));
    for (; made < due; made++) {
      gateway.publish([
        { channel: "private-staff-portal", name: "chat-message-received", data: { n: made } },
        { channel: `private-player-${made % PLAYERS}`, name: "chat-message-received", data: { n: made } },
      ]);
    }
    if (made >= RATE * SECONDS) {
      clearInterval(tick);
      resolve();
    }
  }, 10);
});
const lastSend = performance.now();
await gateway.idle();
const done = performance.now();
console.log(
  JSON.stringify({
    delayMs: DELAY,
    lanes: LANES,
    sendsPerSecond: RATE,
    sends: made,
    eventsPerSecond: Math.round(seen.events / ((done - started) / 1000)),
    events: seen.events,
    requests: seen.requests,
    maxOpenRequests: seen.maxOpen,
    droppedBatches: logs.filter((l) => l.includes("dropped")).length,
    drainedAfterLastSendMs: Math.round(done - lastSend),
  }),
);
server.closeAllConnections();
server.close();
