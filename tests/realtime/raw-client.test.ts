import { describe, expect, it } from "vitest";
import { rawConnected, serverPerTest } from "../support/realtime";

const server = serverPerTest();

/**
 * The bare test client itself. The 100,000-subscription flood in attacks.test.ts took 3.5 s or
 * 150 s: while it waited for its pong, `next` searched every frame received so far again on each
 * new one, so when the server answered after the client had finished sending (a loaded machine),
 * the wait cost ~n²/2 predicate calls in the test process.
 */
describe("rawClient.next", () => {
  it("looks at each frame once while it waits, however many arrive", async () => {
    const rt = await server.start();
    const raw = await rawConnected(rt);
    raw.send("pusher:subscribe", { channel: "many" });
    await raw.next((f) => f.event === "pusher_internal:subscription_succeeded");

    let looked = 0;
    void raw.next((f) => {
      looked++;
      return f.event === "never-sent";
    });
    const count = 300;
    for (let i = 0; i < count; i += 10) {
      await rt.sdk.triggerBatch(
        Array.from({ length: 10 }, (_, j) => ({ channel: "many", name: `e${i + j}`, data: "{}" })),
      );
    }
    raw.send("pusher:ping", {});
    await raw.next((f) => f.event === "pusher:pong");

    // Each of the `count` events once, plus the pong, which arrives before the pong waiter takes it.
    expect(looked).toBe(count + 1);
    expect(raw.frames.filter((f) => f.event.startsWith("e"))).toHaveLength(count);
  });

  it("still hands out frames that arrived before the wait, first match first, each once", async () => {
    const rt = await server.start();
    const raw = await rawConnected(rt);
    raw.send("pusher:subscribe", { channel: "early" });
    await raw.next((f) => f.event === "pusher_internal:subscription_succeeded");
    await rt.sdk.triggerBatch([
      { channel: "early", name: "a", data: "1" },
      { channel: "early", name: "b", data: "2" },
      { channel: "early", name: "a", data: "3" },
    ]);
    raw.send("pusher:ping", {});
    await raw.next((f) => f.event === "pusher:pong");

    expect((await raw.next((f) => f.event === "a")).data).toBe(1);
    expect((await raw.next((f) => f.event === "a")).data).toBe(3);
    expect(raw.frames.map((f) => f.event)).toEqual(["b"]);
  });
});
