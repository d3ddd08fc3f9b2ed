import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import type WebSocket from "ws";
import { Metrics } from "@/server/realtime/metrics";
import { Webhooks } from "@/server/realtime/webhooks";
import { rawConnected, serverPerTest, signChannel, subscribed } from "../support/realtime";

const server = serverPerTest();
type Raw = Awaited<ReturnType<typeof rawConnected>>;

async function subscribe(raw: Raw, channel: string, extra: Record<string, unknown> = {}) {
  raw.send("pusher:subscribe", { channel, ...extra });
  return raw.next(
    (f) =>
      f.channel === channel &&
      (f.event === "pusher_internal:subscription_succeeded" || f.event === "pusher:subscription_error"),
  );
}

function joinPresence(raw: Raw, channel: string, member: { user_id: string; user_info?: unknown }) {
  const channelData = JSON.stringify(member);
  return subscribe(raw, channel, { auth: signChannel(raw.socketId, channel, channelData), channel_data: channelData });
}

const limitReached = (error: RegExp) => ({
  event: "pusher:subscription_error",
  data: { type: "LimitReached", status: 4100, error: expect.stringMatching(error) },
});

describe("channels per connection", () => {
  it("refuses the channel past the limit, and the hub keeps none of them once the socket closes", async () => {
    const rt = await server.start({ maxChannelsPerConnection: 5 });
    const raw = await rawConnected(rt);
    for (let i = 0; i < 5; i++) {
      expect((await subscribe(raw, `lobby-${i}`)).event).toBe("pusher_internal:subscription_succeeded");
    }
    expect(await subscribe(raw, "lobby-5")).toMatchObject(limitReached(/At most 5 channels/));
    // Subscribing again to one it has is not a new channel.
    expect((await subscribe(raw, "lobby-0")).event).toBe("pusher_internal:subscription_succeeded");
    expect(rt.server.hub.channels.size).toBe(5);

    raw.ws.close();
    await raw.closed;
    await expect.poll(() => rt.server.hub.conns.size).toBe(0);
    expect(rt.server.hub.channels.size).toBe(0);
  });

  it("accepts channel names of Pusher's 164 characters and refuses longer ones", async () => {
    const rt = await server.start();
    const raw = await rawConnected(rt);
    expect((await subscribe(raw, "c".repeat(164))).event).toBe("pusher_internal:subscription_succeeded");
    expect((await subscribe(raw, "c".repeat(165))).event).toBe("pusher:subscription_error");
  });
});

describe("cache channels", () => {
  it("forget their last event after the time to live", async () => {
    const rt = await server.start({ cacheTtlSeconds: 0.3 });
    await rt.sdk.trigger("cache-scores", "score", { n: 1 });
    const early = await rawConnected(rt);
    await subscribe(early, "cache-scores");
    expect(await early.next((f) => f.channel === "cache-scores")).toMatchObject({ event: "score", data: { n: 1 } });

    await expect.poll(() => rt.server.hub.cacheSize).toBe(0);
    const late = await rawConnected(rt);
    await subscribe(late, "cache-scores");
    expect((await late.next((f) => f.channel === "cache-scores")).event).toBe("pusher:cache_miss");
  });

  it("keep at most the configured number of events, dropping the oldest", async () => {
    const rt = await server.start({ maxCacheChannels: 2 });
    for (const name of ["cache-a", "cache-b", "cache-c"]) await rt.sdk.trigger(name, "last", { name });
    expect(rt.server.hub.cacheSize).toBe(2);
    const raw = await rawConnected(rt);
    await subscribe(raw, "cache-a");
    expect((await raw.next((f) => f.channel === "cache-a")).event).toBe("pusher:cache_miss");
    await subscribe(raw, "cache-c");
    expect((await raw.next((f) => f.channel === "cache-c")).event).toBe("last");
  });
});

describe("presence channels", () => {
  it("refuse a member past the limit, but not another tab of a member", async () => {
    const rt = await server.start({ maxPresenceMembers: 2 });
    const [a, b, c, a2] = await Promise.all([rawConnected(rt), rawConnected(rt), rawConnected(rt), rawConnected(rt)]);
    expect((await joinPresence(a, "presence-floor", { user_id: "a" })).event).toBe(
      "pusher_internal:subscription_succeeded",
    );
    expect((await joinPresence(b, "presence-floor", { user_id: "b" })).event).toBe(
      "pusher_internal:subscription_succeeded",
    );
    expect(await joinPresence(c, "presence-floor", { user_id: "c" })).toMatchObject(limitReached(/At most 2 members/));
    expect((await joinPresence(a2, "presence-floor", { user_id: "a" })).event).toBe(
      "pusher_internal:subscription_succeeded",
    );
    expect(rt.server.hub.presenceOf("presence-floor").ids.sort()).toEqual(["a", "b"]);
  });

  it("refuse Pusher's oversize members: user_id over 128 characters, user_info over 1 KB", async () => {
    const rt = await server.start();
    const raw = await rawConnected(rt);
    expect(await joinPresence(raw, "presence-floor", { user_id: "u".repeat(129) })).toMatchObject(
      limitReached(/user_id/),
    );
    expect(
      await joinPresence(raw, "presence-floor", { user_id: "u", user_info: { bio: "b".repeat(1100) } }),
    ).toMatchObject(limitReached(/user_info/));
    expect(rt.server.hub.channels.size).toBe(0);
  });

  it("reach pusher-js as a subscription error with the reason", async () => {
    const rt = await server.start({ maxPresenceMembers: 1 });
    await subscribed(server.client({ presence: { user_id: "first" } }), "presence-floor");
    const err = await subscribed(server.client({ presence: { user_id: "second" } }), "presence-floor").catch((e) => e);
    expect(err.data).toMatchObject({ type: "LimitReached", status: 4100 });
    expect(rt.server.hub.presenceOf("presence-floor").ids).toEqual(["first"]);
  });
});

describe("back-pressure", () => {
  it("closes a socket that stops reading with 4100 and never holds more than the limit for it", async () => {
    const limit = 200_000;
    const rt = await server.start({ maxBufferedBytes: limit });
    const raw = await rawConnected(rt);
    await subscribe(raw, "flood");
    const conn = rt.server.hub.conns.get(raw.socketId);
    if (!conn) throw new Error("no connection");
    const socket = (raw.ws as WebSocket & { _socket: Socket })._socket;
    socket.pause();

    const data = "x".repeat(8_000);
    let held = 0;
    let published = 0;
    while (rt.server.hub.conns.has(raw.socketId) && published < 20_000) {
      rt.server.hub.publish("flood", "big", data);
      published++;
      held = Math.max(held, conn.ws.bufferedAmount);
      // Let the kernel take what it will, as it would between real publishes.
      if (published % 20 === 0) await new Promise((r) => setImmediate(r));
    }
    expect(rt.server.hub.conns.has(raw.socketId)).toBe(false);
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(limit);
    expect(rt.server.hub.channels.size).toBe(0);
    socket.resume();
    expect((await raw.closed).code).toBe(4100);
  });

  it("measures a fan-out's frame in bytes: multi-byte text over the limit closes the socket though its length is under it", async () => {
    const limit = 100_000;
    const rt = await server.start({ maxBufferedBytes: limit });
    const raw = await rawConnected(rt);
    await subscribe(raw, "wide");
    const data = JSON.stringify({ text: "é".repeat(60_000) }); // about 60,000 characters, 120,000 bytes
    await rt.server.hub.publish("wide", "big", data);
    expect(rt.server.hub.conns.has(raw.socketId)).toBe(false);
    expect((await raw.closed).code).toBe(4100);
    expect(raw.frames.some((f) => f.event === "big")).toBe(false);
  });
});

describe("an error inside one connection's handling", () => {
  it("closes that connection only", async () => {
    const rt = await server.start();
    const [victim, bystander] = await Promise.all([rawConnected(rt), rawConnected(rt)]);
    await subscribe(bystander, "lobby");
    // No input is known to throw any more; a fault is planted to prove the containment.
    const join = rt.server.hub.join.bind(rt.server.hub);
    rt.server.hub.join = (conn, name, presence) => {
      if (name === "planted-fault") throw new Error("planted");
      return join(conn, name, presence);
    };
    victim.send("pusher:subscribe", { channel: "planted-fault" });
    expect(await victim.closed).toMatchObject({ code: 4200, reason: "Internal server error" });
    expect(rt.logs).toContain("[realtime] message handling failed: planted");

    await rt.sdk.trigger("lobby", "still-here", {});
    await bystander.next((f) => f.event === "still-here");
    expect(rt.server.hub.conns.size).toBe(1);
  });
});

describe("webhooks to an endpoint that is down", () => {
  it("queue a bounded number of events and batches, and count what they drop", async () => {
    const metrics = new Metrics();
    const webhooks = new Webhooks({
      url: "http://127.0.0.1:1/hooks",
      key: "k",
      secret: "s",
      batchMs: 60_000,
      attempts: 5,
      backoffMs: 60_000,
      metrics,
      log: () => {},
    });
    for (let i = 0; i < 10_005; i++) webhooks.add({ name: "channel_occupied", channel: `c-${i}` });
    expect(metrics.webhooksDropped).toBe(5);
    webhooks.flush();
    // Each flush is one batch on its way (or waiting to retry); past 100 of them, batches are dropped.
    for (let i = 0; i < 100; i++) {
      webhooks.add({ name: "channel_occupied", channel: "again" });
      webhooks.flush();
    }
    expect(metrics.webhooksDropped).toBe(6);
    await webhooks.close();
  });
});
