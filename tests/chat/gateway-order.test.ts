import { randomUUID } from "node:crypto";
import type Pusher from "pusher";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { EVENTS } from "@/protocol/channels";
import { sendAsPlayer } from "@/server/chat/actions";
import { pusherGateway } from "@/server/chat/gateway";
import { openTestDb } from "../support/db";
import { makePlayer } from "../support/fixtures";

type Sent = Array<{ channel: string; name: string; data: string }>;

/** A publisher whose requests the test answers one by one, until `auto` answers the rest at once. */
function scriptedPusher() {
  const requests: Array<{ batch: Sent; answer: (err?: unknown) => void }> = [];
  const state = { auto: false };
  const pusher = {
    triggerBatch: (batch: Sent) =>
      new Promise<void>((resolve, reject) => {
        requests.push({ batch, answer: (err) => (err ? reject(err) : resolve()) });
        if (state.auto) resolve();
      }),
  } as unknown as Pusher;
  return { pusher, requests, state };
}

/** The names of the events sent to `channel` after the first two requests (the retries), in order. */
const retriedTo = (requests: ReturnType<typeof scriptedPusher>["requests"], channel: string) =>
  requests
    .slice(2)
    .flatMap((r) => r.batch)
    .filter((e) => e.channel === channel)
    .map((e) => e.name);

/** One turn of the event loop: whatever was already settled has run its callbacks. */
const turn = () => new Promise((resolve) => setImmediate(resolve));

describe("the gateway's order of events on a channel", () => {
  let handle: DbHandle;
  beforeAll(async () => {
    handle = await openTestDb("pglite");
  });
  afterAll(async () => {
    await handle?.close();
  });

  it("keeps a send made just after a failure behind the batches that waited before it", async () => {
    const { pusher, requests, state } = scriptedPusher();
    const event = (name: string) => [{ channel: "private-player-1", name, data: {} }];
    let gateway: ReturnType<typeof pusherGateway> | undefined;
    let late = 0;
    gateway = pusherGateway(pusher, {
      retryBaseMs: 1,
      idempotencyKeys: false,
      // A send that resumes right after the failed request is held (a commit answered meanwhile).
      log: (m) => {
        if (m.includes("failed"))
          queueMicrotask(() => {
            gateway?.publish(event("fourth"));
            late++;
          });
      },
    });
    gateway.publish(event("first"));
    // Another player's events take the other lane: on the wire at once.
    gateway.publish([{ channel: "private-player-2", name: "other", data: {} }]);
    gateway.publish(event("third")); // waits: player 1's lane has a request on the wire
    expect(requests.length).toBe(2);
    requests[0]?.answer(Object.assign(new Error("busy"), { status: 503 }));
    requests[1]?.answer();
    await expect.poll(() => late).toBe(1);
    // The background retry may be on the wire already: answer it and whatever follows.
    state.auto = true;
    for (const r of requests.slice(2)) r.answer();
    await gateway.idle();
    const delivered = retriedTo(requests, "private-player-1");
    expect(delivered).toEqual(["first", "third", "fourth"]);
  });

  it("keeps a player's send made while its lane is on the wire behind that request when both fail", async () => {
    const { pusher, requests, state } = scriptedPusher();
    const logged: string[] = [];
    const gateway = pusherGateway(pusher, { retryBaseMs: 1, idempotencyKeys: false, log: (m) => logged.push(m) });
    gateway.publish([{ channel: "private-player-1", name: "first", data: {} }]); // lane 1, on the wire
    gateway.publish([{ channel: "private-player-2", name: "other", data: {} }]); // lane 0, on the wire
    expect(requests.length).toBe(2);
    // The other lane's request fails (the realtime server went down): it is held for a retry.
    requests[1]?.answer(Object.assign(new Error("down"), { status: 503 }));
    await expect.poll(() => logged.length).toBe(1);
    // Player 1 sends again while their first request is still on the wire.
    gateway.publish([{ channel: "private-player-1", name: "second", data: {} }]);
    requests[0]?.answer(Object.assign(new Error("down"), { status: 503 }));
    await expect.poll(() => logged.length).toBe(2);
    state.auto = true;
    for (const r of requests.slice(2)) r.answer();
    await gateway.idle();
    const delivered = retriedTo(requests, "private-player-1");
    expect(delivered).toEqual(["first", "second"]);
  });

  it("answers a send once its events are queued, and sends the next send's events only after the first's answer (issue 11)", async () => {
    const { pusher, requests } = scriptedPusher();
    const realtime = pusherGateway(pusher, { idempotencyKeys: false });
    const { player } = await makePlayer(handle.db);
    const [first, second] = [randomUUID(), randomUUID()];
    // Nobody answers the publish yet: the send must not wait for it (the message is stored).
    await sendAsPlayer({ db: handle.db, realtime }, { id: first, text: "first", player });
    expect(requests.length).toBe(1);
    await sendAsPlayer({ db: handle.db, realtime }, { id: second, text: "second", player });
    // One request on the wire at a time: the second send's events wait for the first's answer, so
    // no channel can see them before the first's.
    expect(requests.length).toBe(1);
    requests[0]?.answer();
    await expect.poll(() => requests.length).toBe(2);
    requests[1]?.answer();
    await realtime.idle();
    const idsOn = (channel: string) =>
      requests
        .flatMap((r) => r.batch)
        .filter((e) => e.channel === channel && e.name !== EVENTS.newChatRequest)
        .map((e) => (JSON.parse(e.data) as { id: string }).id);
    expect(idsOn("private-staff-portal")).toEqual([first, second]);
    expect(idsOn(`private-player-${player.id}`)).toEqual([first, second]);
  });

  it("is idle only once the publishes on the wire and waiting for it are answered (shutdown flushes them)", async () => {
    const { pusher, requests } = scriptedPusher();
    const realtime = pusherGateway(pusher, { idempotencyKeys: false });
    const event = (name: string) => [{ channel: "private-player-1", name, data: {} }];
    realtime.publish(event("on the wire"));
    realtime.publish(event("waiting"));
    const order: string[] = [];
    const idle = realtime.idle().then(() => order.push("idle"));
    await turn();
    order.push("first answered");
    requests[0]?.answer();
    await expect.poll(() => requests.length).toBe(2);
    await turn();
    order.push("second answered");
    requests[1]?.answer();
    await idle;
    expect(order).toEqual(["first answered", "second answered", "idle"]);
  });
});
