import diagnostics_channel from "node:diagnostics_channel";
import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { realtimeConfig } from "@/server/realtime/config";
import { createPublisher, IDLE_SOCKET_MS } from "@/server/realtime/publisher";
import { RecentKeys } from "@/server/realtime/recent-keys";
import { createRealtimeServer } from "@/server/realtime/server";
import { APP, connectClient, connected, nextEvent, serverPerTest, signedFetch, subscribed } from "../support/realtime";

const server = serverPerTest();
const client = server.client;

const event = (over: Record<string, unknown> = {}) =>
  JSON.stringify({ name: "e", data: "{}", channel: "lobby", ...over });

/**
 * One node of its own with a socket on "lobby" recording event "n"'s `i`: a failure made in its
 * hub is met by the HTTP request (in the cluster run the suite's API node is not the one the test
 * can reach).
 */
async function ownNodeListening() {
  const config = realtimeConfig({ ...APP, host: "127.0.0.1", port: 0 });
  const node = createRealtimeServer(config, { log: () => {} });
  const { port } = await node.start();
  const rt = { port, url: `http://127.0.0.1:${port}` };
  const listener = connectClient(rt);
  const channel = await subscribed(listener, "lobby");
  const seen: number[] = [];
  channel.bind("n", (d: { i: number }) => seen.push(d.i));
  return { node, rt, listener, channel, seen };
}

describe("signed HTTP API", () => {
  it("publishes to many channels at once and leaves out the sender's socket", async () => {
    const rt = await server.start();
    const sender = client();
    const other = client();
    const [senderChannel, otherChannel] = [await subscribed(sender, "private-a"), await subscribed(other, "private-a")];
    const otherB = await subscribed(other, "private-b");
    let echoed = 0;
    senderChannel.bind("news", () => echoed++);
    const gotA = nextEvent(otherChannel, "news");
    const gotB = nextEvent(otherB, "news");
    await rt.sdk.trigger(["private-a", "private-b"], "news", { x: 1 }, { socket_id: await connected(sender) });
    expect(await Promise.all([gotA, gotB])).toEqual([{ x: 1 }, { x: 1 }]);
    const after = nextEvent(senderChannel, "after");
    await rt.sdk.trigger("private-a", "after", {});
    await after;
    expect(echoed).toBe(0);
  });

  it("reports subscription and user counts when asked", async () => {
    const rt = await server.start();
    await subscribed(client({ presence: { user_id: "u1" } }), "presence-staff");
    await subscribed(client({ presence: { user_id: "u1" } }), "presence-staff");
    const res = await rt.sdk.trigger("presence-staff", "ping", {}, { info: "subscription_count,user_count" });
    expect(await res.json()).toEqual({ channels: { "presence-staff": { subscription_count: 2, user_count: 1 } } });

    const channel = await rt.sdk.get({
      path: "/channels/presence-staff",
      params: { info: "user_count,subscription_count" },
    });
    expect(await channel.json()).toEqual({ occupied: true, user_count: 1, subscription_count: 2 });
    const list = await rt.sdk.get({ path: "/channels", params: { filter_by_prefix: "presence-", info: "user_count" } });
    expect(await list.json()).toEqual({ channels: { "presence-staff": { user_count: 1 } } });
    const users = await rt.sdk.get({ path: "/channels/presence-staff/users" });
    expect(await users.json()).toEqual({ users: [{ id: "u1" }] });
    const empty = await rt.sdk.get({ path: "/channels/presence-nobody" });
    expect(await empty.json()).toEqual({ occupied: false });
  });

  it("publishes a batch of up to ten events", async () => {
    const rt = await server.start();
    const channel = await subscribed(client(), "lobby");
    const seen: number[] = [];
    const all = new Promise<void>((resolve) =>
      channel.bind("n", (d: { i: number }) => {
        seen.push(d.i);
        if (seen.length === 10) resolve();
      }),
    );
    await rt.sdk.triggerBatch(Array.from({ length: 10 }, (_, i) => ({ channel: "lobby", name: "n", data: { i } })));
    await all;
    expect(seen).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
    const tooMany = await signedFetch(rt, "POST", "/batch_events", {
      body: JSON.stringify({ batch: Array.from({ length: 11 }, () => ({ name: "n", data: "{}", channel: "lobby" })) }),
    });
    expect(tooMany.status).toBe(400);
  });

  it("hands sockets an event once per idempotency key, remembering a bounded number of keys", async () => {
    const rt = await server.start({ idempotencyKeysKept: 3 });
    const channel = await subscribed(client(), "lobby");
    const seen: number[] = [];
    channel.bind("n", (d: { i: number }) => seen.push(d.i));
    const publish = (i: number, key?: string) =>
      signedFetch(rt, "POST", "/batch_events", {
        body: JSON.stringify({
          batch: [
            { channel: "lobby", name: "n", data: JSON.stringify({ i }), ...(key ? { idempotency_key: key } : {}) },
          ],
        }),
      });
    // A repeat is answered like the first (the publisher must hear "done"), and not handed out again.
    expect((await publish(1, "a")).status).toBe(200);
    expect((await publish(1, "a")).status).toBe(200);
    // Without a key nothing is held back: a Pusher publisher may send the same event twice on purpose.
    await publish(2);
    await publish(2);
    // Three newer keys push "a" out: what is kept stays bounded, and "a" counts as new again.
    for (const [i, key] of [
      [3, "b"],
      [4, "c"],
      [5, "d"],
    ] as const)
      await publish(i, key);
    await publish(6, "a");
    const last = nextEvent(channel, "last");
    await rt.sdk.trigger("lobby", "last", {});
    await last;
    expect(seen).toEqual([1, 2, 2, 3, 4, 5, 6]);
  });

  it("hands out the retry of an event whose first publish failed (the key is kept only once handed out)", async () => {
    const { node, rt, listener, channel, seen } = await ownNodeListening();
    try {
      // The first hand-out fails (a Redis adapter that lost its connection does so), the next ones work.
      const adapter = node.hub.adapter;
      const broadcast = adapter.broadcast.bind(adapter);
      let failures = 1;
      adapter.broadcast = (message) =>
        failures-- > 0 ? Promise.reject(new Error("adapter down")) : broadcast(message);
      const publish = () =>
        signedFetch(rt, "POST", "/batch_events", {
          body: JSON.stringify({
            batch: [{ channel: "lobby", name: "n", data: JSON.stringify({ i: 1 }), idempotency_key: "k" }],
          }),
        });
      expect((await publish()).status).toBe(500);
      expect((await publish()).status).toBe(200);
      // Once handed out, the key is kept: a third attempt is a repeat.
      expect((await publish()).status).toBe(200);
      const last = nextEvent(channel, "last");
      await signedFetch(rt, "POST", "/events", { body: event({ name: "last" }) });
      await last;
      expect(seen).toEqual([1]);
    } finally {
      listener.disconnect();
      await node.stop();
    }
  });

  it("answers a retry that arrives while the first hand-out is under way with that hand-out's outcome", async () => {
    const { node, rt, listener, channel, seen } = await ownNodeListening();
    try {
      // The first hand-out hangs (a Redis adapter that is slow to fail), then fails.
      const adapter = node.hub.adapter;
      const broadcast = adapter.broadcast.bind(adapter);
      let fail: (err: Error) => void = () => {};
      let calls = 0;
      adapter.broadcast = (message) => {
        if (calls++ > 0) return broadcast(message);
        return new Promise<void>((_, reject) => {
          fail = reject;
        });
      };
      const publish = () =>
        signedFetch(rt, "POST", "/batch_events", {
          body: JSON.stringify({
            batch: [{ channel: "lobby", name: "n", data: JSON.stringify({ i: 1 }), idempotency_key: "slow" }],
          }),
        }).then((r) => r.status);
      const keys = node.hub.recentKeys;
      const firstTime = keys.firstTime.bind(keys);
      let offered = 0;
      keys.firstTime = (key) => {
        offered++;
        return firstTime(key);
      };
      const first = publish();
      await expect.poll(() => calls).toBe(1);
      // The publisher gave up waiting and retries with the same key while the first is under way.
      const retry = publish();
      await expect.poll(() => offered).toBe(2);
      fail(new Error("adapter down"));
      // The retry shares the first attempt's failure: answered "published" it would never be sent
      // again, and nothing was handed out. Told 500, the publisher sends it once more.
      const statuses = [await first, await retry, await publish()];
      const last = nextEvent(channel, "last");
      await signedFetch(rt, "POST", "/events", { body: event({ name: "last" }) });
      await last;
      expect({ statuses, seen }).toEqual({ statuses: [500, 500, 200], seen: [1] });
    } finally {
      listener.disconnect();
      await node.stop();
    }
  });

  it("has the app's publisher close an idle keep-alive socket before the server would", async () => {
    const rt = await server.start();
    // What the server tells keep-alive clients (Node sends it on every keep-alive answer).
    const announced = (await fetch(`${rt.url}/health`)).headers.get("keep-alive") ?? "";
    const serverIdleMs = Number(/timeout=(\d+)/.exec(announced)?.[1]) * 1000;
    expect(IDLE_SOCKET_MS).toBeLessThan(serverIdleMs);
    // The connection the publisher opens (Node announces every client socket it makes).
    const opened: Socket[] = [];
    const onSocket = (message: unknown) => opened.push((message as { socket: Socket }).socket);
    diagnostics_channel.subscribe("net.client.socket", onSocket);
    try {
      const publisher = createPublisher({ ...APP, host: "127.0.0.1", port: rt.port, useTLS: false });
      await publisher.triggerBatch([{ channel: "lobby", name: "n", data: "{}" }]);
      const [socket] = opened.filter((s) => s.remotePort === rt.port);
      if (!socket) throw new Error("the publisher opened no connection");
      // Otherwise a publish can be written on a socket the server is closing: reset, never read.
      // Closed by the publisher while idle, not by the server: no end of the server's side came first.
      let serverClosed = false;
      socket.on("end", () => {
        serverClosed = true;
      });
      await new Promise((resolve) => socket.once("close", resolve));
      expect(serverClosed).toBe(false);
    } finally {
      diagnostics_channel.unsubscribe("net.client.socket", onSocket);
    }
  }, 20_000);

  it.each([
    ["a wrong signature", { secret: "wrong" }, 401],
    ["an expired timestamp", { timestamp: Math.floor(Date.now() / 1000) - 601 }, 401],
    ["a tampered body", { md5Of: event({ data: '{"original":true}' }) }, 401],
    ["an unknown app", { appId: "other-app" }, 404],
  ])("refuses %s", async (_label, opts, status) => {
    const rt = await server.start();
    const res = await signedFetch(rt, "POST", "/events", { body: event(), ...opts });
    expect(res.status).toBe(status);
    expect((await res.json()).error).toEqual(expect.any(String));
  });

  it.each([
    ["malformed JSON", "{oops", 400],
    ["no channel", JSON.stringify({ name: "e", data: "{}" }), 400],
    [
      "101 channels",
      JSON.stringify({ name: "e", data: "{}", channels: Array.from({ length: 101 }, (_, i) => `c${i}`) }),
      400,
    ],
    ["a bad channel name", event({ channel: "no spaces" }), 400],
    ["data over 10 KB", event({ data: "x".repeat(10_241) }), 413],
  ])("answers %s with a 4xx", async (_label, body, status) => {
    const rt = await server.start();
    const res = await signedFetch(rt, "POST", "/events", { body });
    expect(res.status).toBe(status);
  });

  it("accepts exactly 10 KB and 100 channels", async () => {
    const rt = await server.start();
    const res = await signedFetch(rt, "POST", "/events", {
      body: JSON.stringify({
        name: "e",
        data: "x".repeat(10_240),
        channels: Array.from({ length: 100 }, (_, i) => `c${i}`),
      }),
    });
    expect(res.status).toBe(200);
  });

  it("refuses user_count for non-presence channels", async () => {
    const rt = await server.start();
    const res = await signedFetch(rt, "GET", "/channels", { query: { info: "user_count" } });
    expect(res.status).toBe(400);
  });
});

describe("recent idempotency keys", () => {
  it("forgets a key after its time, and never holds more than its limit", () => {
    let now = 0;
    const keys = new RecentKeys(2, 1000, () => now);
    expect(keys.firstTime("a")).toBe(true);
    expect(keys.firstTime("a")).toBe(false);
    now = 999;
    expect(keys.firstTime("a")).toBe(false);
    now = 1000;
    expect(keys.firstTime("a")).toBe(true);
    expect(keys.firstTime("b")).toBe(true);
    expect(keys.firstTime("c")).toBe(true);
    expect(keys.size).toBe(2);
    expect(keys.firstTime("b")).toBe(false);
    expect(keys.firstTime("a")).toBe(true);
  });
});
