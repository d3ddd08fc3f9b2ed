import { afterEach, describe, expect, it } from "vitest";
import { EVENTS } from "@/protocol/channels";
import { pusherGateway } from "@/server/chat/gateway";
import { createPublisher } from "@/server/realtime/publisher";
import { startPusherStandIn } from "../support/pusher-standin";
import { APP } from "../support/realtime";

/**
 * Sends do not wait for their publish (gateway.ts), so against a realtime server that answers,
 * only slowly (hosted Pusher, 50–100 ms a round trip), nothing but the gateway bounds what waits
 * to leave. Each lane has one request on the wire; a lane's waiting line is bounded, and beyond it
 * the oldest waiting batch is dropped with a log line (clients catch up from the database by seq).
 */
describe("publishing while the server is slow to answer", () => {
  let standIn: Awaited<ReturnType<typeof startPusherStandIn>> | undefined;
  afterEach(async () => {
    await standIn?.close();
    standIn = undefined;
  });

  /** A stand-in (closed after the test), and the app's publisher to it with this timeout. */
  async function standInWithPublisher(timeoutMs = 60_000) {
    const server = await startPusherStandIn();
    standIn = server;
    const publisherAt = (ms: number) =>
      createPublisher({ ...APP, host: "127.0.0.1", port: server.port, useTLS: false, timeoutMs: ms });
    return { server, publisher: publisherAt(timeoutMs), publisherAt };
  }

  it("puts one request per lane on the wire, bounds each lane's waiting line, and keeps each channel's order", async () => {
    // The official SDK with hosted Pusher's settings (no idempotency keys), a timeout no answer here outlasts.
    const { server, publisher } = await standInWithPublisher();
    const dispatched: string[][] = [];
    const triggerBatch = publisher.triggerBatch.bind(publisher);
    publisher.triggerBatch = (batch) => {
      dispatched.push(batch.map((e) => e.name));
      return triggerBatch(batch);
    };
    const logs: string[] = [];
    const gateway = pusherGateway(publisher, {
      idempotencyKeys: false,
      lanes: 4,
      maxWaiting: 2,
      log: (m) => logs.push(m),
    });
    const made: Array<{ channel: string; name: string }> = [];
    const publish = (player: number, name: string) => {
      const event = { channel: `private-player-${player}`, name, data: {} };
      made.push(event);
      gateway.publish([event]);
    };

    // Players 0–3 take lanes 0–3: four requests on the wire at once, nothing answered.
    for (const player of [0, 1, 2, 3]) publish(player, `p${player}-0`);
    await expect.poll(() => server.open).toBe(4);
    // Player 1's next 35 events wait in its lane, packed ten a batch: [1–10] [11–20] [21–30] [31–35].
    // At most two batches wait, so the third and fourth each drop the oldest.
    for (let k = 1; k <= 35; k++) publish(1, `p1-${k}`);
    // Player 4 shares lane 0 with player 0: it waits too, and no fifth request goes out.
    publish(4, "p4-0");
    expect(dispatched).toHaveLength(4);
    const dropped = logs.filter((m) => m.includes("dropped"));
    expect(dropped).toHaveLength(2);
    expect(dropped[0]).toContain("p1-1, p1-2");
    expect(dropped[1]).toContain("p1-11, p1-12");

    server.release();
    await gateway.idle();
    expect(server.maxOpen).toBe(4);
    expect(dispatched.every((b) => b.length <= 10)).toBe(true);
    const lost = new Set(Array.from({ length: 20 }, (_, i) => `p1-${i + 1}`));
    const kept = made.filter((e) => !lost.has(e.name));
    const on = (events: Array<{ channel: string; name: string }>, channel: string) =>
      events.filter((e) => e.channel === channel).map((e) => e.name);
    // The one channel whose events were dropped is told to catch up, after everything it was sent.
    const delivered = server.events.filter((e) => e.name !== EVENTS.catchUp);
    expect(server.events.filter((e) => e.name === EVENTS.catchUp).map((e) => e.channel)).toEqual(["private-player-1"]);
    expect(on(server.events, "private-player-1").at(-1)).toBe(EVENTS.catchUp);
    // Every kept event taken once, and each channel's in the order it was made.
    expect(delivered.map((e) => e.name).sort()).toEqual(kept.map((e) => e.name).sort());
    for (const channel of new Set(kept.map((e) => e.channel)))
      expect(on(delivered, channel)).toEqual(on(kept, channel));
  });

  it("sends at once again after giving up on a batch the server left unanswered", async () => {
    // Every request goes unanswered until release(): the SDK times out, and that may have arrived.
    // After it, requests wait for their answer however loaded the machine: with the 100 ms timeout
    // a slow answer was given up on too, and the catch-up waited for a server that answers.
    const { server, publisher, publisherAt } = await standInWithPublisher(100);
    const patient = publisherAt(60_000);
    let released = false;
    const dispatched: string[] = [];
    const triggerBatch = publisher.triggerBatch.bind(publisher);
    publisher.triggerBatch = (batch) => {
      dispatched.push(...batch.map((e) => e.name));
      return released ? patient.triggerBatch(batch) : triggerBatch(batch);
    };
    const logs: string[] = [];
    const gateway = pusherGateway(publisher, { retryAttempts: 0, retryBaseMs: 1, log: (m) => logs.push(m) });
    gateway.publish([{ channel: "private-player-1", name: "first", data: {} }]);
    // Sent, unanswered, held, retried once, unanswered again: given up.
    await expect.poll(() => logs.some((m) => m.includes("gave up")), { timeout: 10_000 }).toBe(true);
    expect(dispatched).toEqual(["first", "first"]);

    server.release();
    released = true;
    // Nothing is held any more: the next event goes on the wire at once, not to a background
    // retry as if the server were still leaving publishes unanswered (that costs a retry delay).
    gateway.publish([{ channel: "private-player-1", name: "second", data: {} }]);
    expect(dispatched).toEqual(["first", "first", "second"]);
    await gateway.idle();
    // The given-up event's channel is told to catch up once the server answers again.
    expect(server.events.map((e) => `${e.channel} ${e.name}`)).toEqual(
      expect.arrayContaining(["private-player-1 second", `private-player-1 ${EVENTS.catchUp}`]),
    );
  });

  it("against a server that refuses every publish, tells a channel to catch up once per drop, not again and again", async () => {
    const { server, publisher } = await standInWithPublisher();
    // A wrong secret: every request is answered 401 at once, the catch-ups included.
    server.refuse(401);
    const logs: string[] = [];
    const gateway = pusherGateway(publisher, { log: (m) => logs.push(m) });
    gateway.publish([{ channel: "private-player-1", name: "first", data: {} }]);
    await gateway.idle();
    // The event, then its channel's catch-up (refused too, and not remembered again: it would be
    // refused again, and sent after each refusal it went on without end).
    expect(server.requests).toBe(2);
    expect(logs.filter((m) => m.includes("HTTP 401"))).toHaveLength(2);
  });

  it("tells a channel to catch up only once its own lane has drained, not into a full line", async () => {
    const { server, publisher } = await standInWithPublisher();
    const logs: string[] = [];
    const gateway = pusherGateway(publisher, { lanes: 2, maxWaiting: 1, log: (m) => logs.push(m) });
    const publish = (player: number, name: string) =>
      gateway.publish([{ channel: `private-player-${player}`, name, data: {} }]);
    // Player 0 on lane 0, player 1 on lane 1: one request each on the wire, unanswered.
    publish(0, "p0-0");
    publish(1, "p1-0");
    await expect.poll(() => server.open).toBe(2);
    // Lane 1's line holds one batch (of ten): p1-1…p1-10, then p1-11…p1-20 push it out (player 1 is stale).
    for (let k = 1; k <= 20; k++) publish(1, `p1-${k}`);
    expect(logs.filter((m) => m.includes("dropped"))).toHaveLength(1);

    // Lane 0 drains first. Player 1's catch-up must wait for lane 1: put in lane 1's full line now,
    // it would push p1-11…p1-20 out too.
    server.answerOldest();
    await expect.poll(() => server.requests).toBe(2);
    server.release();
    await gateway.idle();
    expect(logs.filter((m) => m.includes("dropped"))).toHaveLength(1);
    const onPlayer1 = server.events.filter((e) => e.channel === "private-player-1").map((e) => e.name);
    const kept = Array.from({ length: 10 }, (_, i) => `p1-${i + 11}`);
    expect(onPlayer1).toEqual(["p1-0", ...kept, EVENTS.catchUp]);
  });

  it("remembers at most maxStale channels for a catch-up, and says which it did not", async () => {
    const { server, publisher } = await standInWithPublisher();
    const logs: string[] = [];
    const gateway = pusherGateway(publisher, { lanes: 1, maxWaiting: 1, maxStale: 2, log: (m) => logs.push(m) });
    const event = (player: number, name: string) => ({ channel: `private-player-${player}`, name, data: {} });
    // One request on the wire, unanswered; players 1–3's batch waits, and the next one (too big to
    // join it) pushes it out: three channels stale, one more than the bound.
    gateway.publish([event(0, "p0")]);
    await expect.poll(() => server.open).toBe(1);
    gateway.publish([event(1, "p1"), event(2, "p2"), event(3, "p3")]);
    gateway.publish(Array.from({ length: 8 }, (_, k) => event(4, `p4-${k}`)));
    const dropped = logs.filter((m) => m.includes("dropped"));
    expect(dropped).toHaveLength(1);
    // The log says what happens: players 1 and 2 are told, player 3 is not (the bound was hit).
    expect(dropped[0]).toContain("told to catch up, except on private-player-3: not remembered");

    server.release();
    await gateway.idle();
    const caughtUp = server.events.filter((e) => e.name === EVENTS.catchUp).map((e) => e.channel);
    expect(caughtUp.sort()).toEqual(["private-player-1", "private-player-2"]);
  });
});
