import { afterEach, describe, expect, it } from "vitest";
import { pusherGateway } from "@/server/chat/gateway";
import { createPublisher } from "@/server/realtime/publisher";
import { startPusherStandIn } from "../support/pusher-standin";
import { APP } from "../support/realtime";

/**
 * Against a realtime server far away (hosted Pusher, 50–100 ms a round trip), two publish
 * requests on the wire at once capped delivery at a few hundred events a second, and beyond that
 * the events waiting to leave grew without bound. Batches that can take no more events leave on
 * more requests at once (up to a bound), and the waiting line is bounded: beyond it the oldest
 * waiting batch is dropped with a log line (clients catch up from the database by seq).
 */
describe("publishing while the server is slow to answer", () => {
  let standIn: Awaited<ReturnType<typeof startPusherStandIn>> | undefined;
  afterEach(async () => {
    await standIn?.close();
    standIn = undefined;
  });

  it("puts more requests on the wire while full batches wait, bounds the waiting line, and keeps each channel's order", async () => {
    const server = await startPusherStandIn();
    standIn = server;
    // The official SDK with hosted Pusher's settings (no idempotency keys), a timeout no answer here outlasts.
    const publisher = createPublisher({
      ...APP,
      host: "127.0.0.1",
      port: server.port,
      useTLS: false,
      timeoutMs: 60_000,
    });
    const dispatched: string[][] = [];
    const triggerBatch = publisher.triggerBatch.bind(publisher);
    publisher.triggerBatch = (batch) => {
      dispatched.push(batch.map((e) => e.name));
      return triggerBatch(batch);
    };
    const logs: string[] = [];
    const gateway = pusherGateway(publisher, {
      idempotencyKeys: false,
      maxInFlight: 2,
      maxInFlightFull: 4,
      maxWaiting: 3,
      log: (m) => logs.push(m),
    });

    // 70 events, one per send, over three players' channels, while nothing is answered:
    // e1, e2 leave alone; e3–e12 and e13–e22 leave as full batches on two more requests; e23–e32,
    // e33–e42, e43–e52 wait; e53 and e63 each open a batch beyond the bound, dropping the oldest waiting.
    const names = Array.from({ length: 70 }, (_, i) => `e${i + 1}`);
    const channelOf = (name: string) => `private-player-${Number(name.slice(1)) % 3}`;
    const sends = names.map((name) => gateway.publish([{ channel: channelOf(name), name, data: {} }]));
    await expect.poll(() => server.open).toBe(4);
    expect(dispatched.map((b) => b.length)).toEqual([1, 1, 10, 10]);
    const dropped = logs.filter((m) => m.includes("dropped"));
    expect(dropped).toHaveLength(2);
    expect(dropped[0]).toContain("e23, e24");
    expect(dropped[1]).toContain("e33, e34");

    server.release();
    await Promise.all(sends); // a dropped batch's sends are answered too: nothing waits forever
    await gateway.idle();
    const lost = new Set(names.slice(22, 42));
    const kept = names.filter((n) => !lost.has(n));
    expect(server.maxOpen).toBe(4);
    expect(dispatched.every((b) => b.length <= 10)).toBe(true);
    // Every kept event once, and handed to the SDK in the order it was made (so each channel's too).
    expect(dispatched.flat()).toEqual(kept);
    expect(server.events.map((e) => e.name).sort()).toEqual([...kept].sort());
  });
});
