/**
 * `npx tsx bench/far-publish.ts`: the gateway against a far realtime server (hosted Pusher, 50–100 ms
 * a round trip). A closed loop of SENDERS (32) senders each publishes a send's two events (staff and
 * player channel) through the official SDK and awaits it, SENDS (2000) in all, against a local
 * stand-in for the batch API that answers each request after DELAY ms (75). Prints events per
 * second, publish requests, and the most requests the stand-in had open at once.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { pusherGateway } from "@/server/chat/gateway";
import { createPublisher } from "@/server/realtime/publisher";

const DELAY = Number(process.env.DELAY ?? 75);
const SENDERS = Number(process.env.SENDERS ?? 32);
const SENDS = Number(process.env.SENDS ?? 2000);

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
const gateway = pusherGateway(publisher, { idempotencyKeys: false, log: (m) => logs.push(m) });
let made = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: SENDERS }, async (_, sender) => {
    while (made < SENDS) {
      const n = made++;
      await gateway.publish([
        { channel: "private-staff-portal", name: "chat-message-received", data: { n } },
        { channel: `private-player-${sender}`, name: "chat-message-received", data: { n } },
      ]);
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
console.log(
  JSON.stringify({
    delayMs: DELAY,
    senders: SENDERS,
    sends: SENDS,
    seconds: Number(seconds.toFixed(2)),
    eventsPerSecond: Math.round(seen.events / seconds),
    events: seen.events,
    requests: seen.requests,
    maxOpenRequests: seen.maxOpen,
    dropped: logs.filter((l) => l.includes("dropped")).length,
  }),
);
server.closeAllConnections();
server.close();
