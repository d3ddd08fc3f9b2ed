import type Pusher from "pusher";
import { describe, expect, it } from "vitest";
import { pusherGateway } from "@/server/chat/gateway";

type Sent = Array<{ channel: string; name: string }>;

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

describe("the gateway's order of events on a channel", () => {
  it("keeps a send made just after a failure behind the batches that waited before it", async () => {
    const { pusher, requests, state } = scriptedPusher();
    const event = (name: string) => [{ channel: "private-player-1", name, data: {} }];
    let gateway: ReturnType<typeof pusherGateway> | undefined;
    const late: Promise<void>[] = [];
    gateway = pusherGateway(pusher, {
      retryBaseMs: 1,
      idempotencyKeys: false,
      // A send that resumes right after the failed request is held (a commit answered meanwhile).
      log: (m) => {
        if (m.includes("failed"))
          queueMicrotask(() => late.push(gateway?.publish(event("fourth")) ?? Promise.resolve()));
      },
    });
    const first = gateway.publish(event("first"));
    const second = gateway.publish([{ channel: "private-player-2", name: "other", data: {} }]);
    const third = gateway.publish(event("third")); // waits: two requests are on the wire
    expect(requests.length).toBe(2);
    requests[0]?.answer(Object.assign(new Error("busy"), { status: 503 }));
    requests[1]?.answer();
    await Promise.all([first, second, third]);
    await expect.poll(() => late.length).toBe(1);
    state.auto = true;
    await Promise.all(late);
    await gateway.idle();
    const delivered = requests
      .slice(2)
      .flatMap((r) => r.batch)
      .filter((e) => e.channel === "private-player-1")
      .map((e) => e.name);
    expect(delivered).toEqual(["first", "third", "fourth"]);
  });
});
