import { describe, expect, it } from "vitest";
import {
  connected,
  nextEvent,
  type Running,
  rawConnected,
  serverPerTest,
  signChannel,
  subscribed,
} from "../support/realtime";

const server = serverPerTest();
const client = server.client;

describe("public and private channels", () => {
  it("delivers a published event to a public channel's subscribers", async () => {
    const rt = await server.start();
    const channel = await subscribed(client(), "lobby");
    const got = nextEvent<{ n: number }>(channel, "news");
    await rt.sdk.trigger("lobby", "news", { n: 1 });
    expect(await got).toEqual({ n: 1 });
  });

  it("fans an event out to every other subscriber as a text frame, never to the excluded socket", async () => {
    const rt = await server.start();
    const [a, b, excluded] = await Promise.all([rawConnected(rt), rawConnected(rt), rawConnected(rt)]);
    const kinds: Record<string, boolean[]> = {};
    for (const raw of [a, b, excluded]) {
      kinds[raw.socketId] = [];
      // pusher-js in a browser gets a Blob for a binary frame and drops the event.
      raw.ws.on("message", (_, isBinary) => kinds[raw.socketId]?.push(isBinary));
      raw.send("pusher:subscribe", { channel: "lobby" });
      await raw.next((f) => f.event === "pusher_internal:subscription_succeeded");
    }
    await rt.sdk.trigger("lobby", "news", { n: 1 }, { socket_id: excluded.socketId });
    await rt.sdk.trigger("lobby", "after", { n: 2 });
    for (const raw of [a, b]) {
      expect((await raw.next((f) => f.event === "news")).data).toEqual({ n: 1 });
      await raw.next((f) => f.event === "after");
    }
    await excluded.next((f) => f.event === "after");
    expect(excluded.frames.some((f) => f.event === "news")).toBe(false);
    // From the spy on: subscription_succeeded, news (not to the excluded socket), after.
    expect([kinds[a.socketId], kinds[b.socketId], kinds[excluded.socketId]]).toEqual([
      [false, false, false],
      [false, false, false],
      [false, false],
    ]);
  });

  it("joins a private channel with a valid signature", async () => {
    const rt = await server.start();
    const channel = await subscribed(client(), "private-player-29");
    const got = nextEvent(channel, "chat-message-received");
    await rt.sdk.trigger("private-player-29", "chat-message-received", { text: "hi" });
    expect(await got).toEqual({ text: "hi" });
  });

  it("refuses a wrong signature with an AuthError and delivers nothing", async () => {
    const rt = await server.start();
    const err = await subscribed(client({ secret: "not-the-secret" }), "private-player-29").catch((e) => e);
    expect(err.data).toMatchObject({ type: "AuthError", status: 401 });
    expect(rt.server.hub.info("private-player-29").subscription_count).toBe(0);
  });

  it("refuses a missing auth and an invalid channel name", async () => {
    const rt = await server.start();
    const raw = await rawConnected(rt);
    raw.send("pusher:subscribe", { channel: "private-secret" });
    const missing = await raw.next((f) => f.event === "pusher:subscription_error");
    expect(missing.data).toMatchObject({ type: "AuthError", status: 401, error: "Missing auth" });
    raw.send("pusher:subscribe", { channel: "bad channel!" });
    const invalid = await raw.next((f) => f.event === "pusher:subscription_error");
    expect(invalid.data).toMatchObject({ type: "AuthError" });
    raw.send("pusher:subscribe", { channel: "x".repeat(201) });
    await raw.next((f) => f.event === "pusher:subscription_error");
  });

  it("treats a duplicate subscribe as harmless and stops delivering after unsubscribe", async () => {
    const rt = await server.start();
    const raw = await rawConnected(rt);
    raw.send("pusher:subscribe", { channel: "lobby" });
    raw.send("pusher:subscribe", { channel: "lobby" });
    await raw.next((f) => f.event === "pusher_internal:subscription_succeeded");
    await raw.next((f) => f.event === "pusher_internal:subscription_succeeded");
    await rt.sdk.trigger("lobby", "one", {});
    await raw.next((f) => f.event === "one");
    raw.send("pusher:unsubscribe", { channel: "lobby" });
    raw.send("pusher:ping", {});
    await raw.next((f) => f.event === "pusher:pong");
    await rt.sdk.trigger("lobby", "two", {});
    raw.send("pusher:ping", {});
    await raw.next((f) => f.event === "pusher:pong");
    expect(raw.frames.filter((f) => f.event === "one" || f.event === "two")).toEqual([]);
    expect(rt.server.hub.info("lobby").occupied).toBe(false);
  });

  it("passes encrypted-channel payloads through untouched", async () => {
    const rt = await server.start();
    const raw = await rawConnected(rt);
    const name = "private-encrypted-vault";
    raw.send("pusher:subscribe", { channel: name, auth: signChannel(raw.socketId, name) });
    await raw.next((f) => f.event === "pusher_internal:subscription_succeeded");
    const sealed = JSON.stringify({ nonce: "bm9uY2U=", ciphertext: "Y2lwaGVy" });
    await signedTrigger(rt, name, "secret", sealed);
    const got = await raw.next((f) => f.event === "secret");
    expect(got.data).toEqual(JSON.parse(sealed));
  });

  it("remembers the last event of a cache channel, or says cache_miss", async () => {
    const rt = await server.start();
    const first = await rawConnected(rt);
    first.send("pusher:subscribe", { channel: "cache-scores" });
    await first.next((f) => f.event === "pusher:cache_miss" && f.channel === "cache-scores");
    await rt.sdk.trigger("cache-scores", "score", { home: 2 });
    const late = await rawConnected(rt);
    late.send("pusher:subscribe", { channel: "cache-scores" });
    const replay = await late.next((f) => f.event === "score");
    expect(replay.data).toEqual({ home: 2 });
  });
});

describe("presence", () => {
  const join = async (userId: string, name = "presence-staff") => {
    const c = client({ presence: { user_id: userId, user_info: { name: userId } } });
    const channel = await subscribed(c, name);
    return { c, channel };
  };

  it("lists members on join and announces newcomers to the others only", async () => {
    await server.start();
    const asha = await join("asha");
    const added = nextEvent<{ id: string }>(asha.channel, "pusher:member_added");
    const vikram = await join("vikram");
    expect((await added).id).toBe("vikram");
    const members = (vikram.channel as unknown as { members: { count: number; me: { id: string } } }).members;
    expect(members.count).toBe(2);
    expect(members.me.id).toBe("vikram");
  });

  it("announces a user once across two connections and removes them when the last leaves", async () => {
    const rt = await server.start();
    const watcher = await join("watcher");
    const added: string[] = [];
    const removed: string[] = [];
    watcher.channel.bind("pusher:member_added", (m: { id: string }) => added.push(m.id));
    watcher.channel.bind("pusher:member_removed", (m: { id: string }) => removed.push(m.id));
    // The watcher's socket delivers in order: once a later marker arrives, anything sent before it has too.
    const markerSeen = async (id: string) => {
      const seen = nextEvent(watcher.channel, "pusher:member_added");
      await join(id);
      expect(((await seen) as { id: string }).id).toBe(id);
    };

    const tab1 = await join("asha");
    const tab2 = await join("asha");
    await markerSeen("marker-1");
    expect(added).toEqual(["asha", "marker-1"]);
    const raw = await rawConnected(rt);
    // The probe's own join is announced too, and on a cluster it may come after its subscription succeeded:
    // wait for it here, or it is the "newcomer" marker-2's wait below takes.
    const probeSeen = nextEvent<{ id: string }>(watcher.channel, "pusher:member_added");
    expect(await presenceOf(raw, "presence-staff")).toMatchObject({
      count: 3,
      ids: expect.arrayContaining(["watcher", "asha", "marker-1"]),
    });
    expect((await probeSeen).id).toBe("probe");

    tab1.c.disconnect();
    await waitFor(() => rt?.server.hub.info("presence-staff").subscription_count === 4);
    await markerSeen("marker-2");
    expect(removed).toEqual([]);

    const gone = nextEvent<{ id: string }>(watcher.channel, "pusher:member_removed");
    tab2.c.disconnect();
    expect((await gone).id).toBe("asha");
  });
});

describe("message order per connection", () => {
  it("handles an unsubscribe sent right after a presence subscribe after it, so nothing is left behind", async () => {
    const rt = await server.start();
    const raw = await rawConnected(rt);
    const name = "presence-quick";
    const channelData = JSON.stringify({ user_id: "quick" });
    // The subscribe waits on the adapter (member list, limit); the unsubscribe must not overtake it.
    raw.send("pusher:subscribe", {
      channel: name,
      auth: signChannel(raw.socketId, name, channelData),
      channel_data: channelData,
    });
    raw.send("pusher:unsubscribe", { channel: name });
    raw.send("pusher:ping", {});
    await raw.next((f) => f.event === "pusher:pong");
    await raw.next((f) => f.event === "pusher_internal:subscription_succeeded");
    expect(rt.server.hub.info(name).subscription_count).toBe(0);
    // Through the HTTP API (another node in the cluster run), once the leave has reached it.
    // On a cluster the leave reaches the other node through Redis, after the node's start-up rejoin.
    await expect
      .poll(async () => (await rt.sdk.get({ path: `/channels/${name}/users` })).json(), { timeout: 10_000 })
      .toEqual({ users: [] });
  });
});

describe("client events", () => {
  it("relays to the other subscribers, never back to the sender, with user_id on presence", async () => {
    const rt = await server.start();
    const a = client({ presence: { user_id: "a" } });
    const b = client({ presence: { user_id: "b" } });
    const chA = await subscribed(a, "presence-room");
    const chB = await subscribed(b, "presence-room");
    let echoed = 0;
    chA.bind("client-typing", () => echoed++);
    const got = new Promise<{ data: unknown; userId: string }>((resolve) =>
      chB.bind("client-typing", (data: unknown, meta: { user_id: string }) => resolve({ data, userId: meta?.user_id })),
    );
    chA.trigger("client-typing", { who: "a" });
    expect(await got).toEqual({ data: { who: "a" }, userId: "a" });
    // A server event after it on A's socket arrives in order: had the client event been echoed, it would be here.
    const after = nextEvent(chA, "after");
    await rt.sdk.trigger("presence-room", "after", {});
    await after;
    expect(echoed).toBe(0);
  });

  it("rejects a flood with 4301 and refuses client events on public channels", async () => {
    const rt = await server.start({ clientEventsPerSecond: 10 });
    const raw = await rawConnected(rt);
    raw.send("pusher:subscribe", { channel: "private-x", auth: signChannel(raw.socketId, "private-x") });
    await raw.next((f) => f.event === "pusher_internal:subscription_succeeded");
    for (let i = 0; i < 15; i++) raw.send("client-flood", { i }, "private-x");
    const limited = await raw.next((f) => f.event === "pusher:error" && (f.data as { code: number }).code === 4301);
    expect((limited.data as { message: string }).message).toMatch(/10 per second/);

    raw.send("pusher:subscribe", { channel: "public-x" });
    await raw.next((f) => f.event === "pusher_internal:subscription_succeeded");
    raw.send("client-nope", {}, "public-x");
    await raw.next(
      (f) => f.event === "pusher:error" && /private and presence/.test((f.data as { message: string }).message),
    );
  });

  it("can be switched off", async () => {
    const rt = await server.start({ clientEvents: false });
    const raw = await rawConnected(rt);
    raw.send("pusher:subscribe", { channel: "private-x", auth: signChannel(raw.socketId, "private-x") });
    await raw.next((f) => f.event === "pusher_internal:subscription_succeeded");
    raw.send("client-x", {}, "private-x");
    await raw.next((f) => f.event === "pusher:error" && /disabled/.test((f.data as { message: string }).message));
  });
});

describe("user sign-in", () => {
  it("delivers events to every connection of a user and terminates them on request", async () => {
    const rt = await server.start();
    const tabs = [client({ user: { id: "staff-1" } }), client({ user: { id: "staff-1" } })];
    const received = tabs.map(
      (c) =>
        new Promise((resolve) => {
          c.user.bind("shift-change", resolve);
        }),
    );
    for (const c of tabs) {
      await connected(c);
      c.signin();
    }
    await Promise.all(tabs.map((c) => (c.user as unknown as { signinDonePromise: Promise<void> }).signinDonePromise));
    await waitFor(
      () =>
        rt?.server.hub.users.get("staff-1")?.size === 2 &&
        [...(rt?.server.hub.channels.get("#server-to-user-staff-1")?.conns ?? [])].length === 2,
    );
    await rt.sdk.sendToUser("staff-1", "shift-change", { at: "18:00" });
    expect(await Promise.all(received)).toEqual([{ at: "18:00" }, { at: "18:00" }]);

    const gone = tabs.map((c) => new Promise((resolve) => c.connection.bind("disconnected", resolve)));
    const stateChanges = tabs.map(
      (c) =>
        new Promise((resolve) =>
          c.connection.bind(
            "state_change",
            (s: { current: string }) => s.current !== "connected" && resolve(s.current),
          ),
        ),
    );
    await rt.sdk.terminateUserConnections("staff-1");
    await Promise.race([Promise.all(gone), Promise.all(stateChanges)]);
    await waitFor(() => !rt?.server.hub.users.has("staff-1"));
  });

  it("closes a connection whose sign-in signature is wrong", async () => {
    const rt = await server.start();
    const raw = await rawConnected(rt);
    raw.send("pusher:signin", { auth: "test-key:forged", user_data: JSON.stringify({ id: "mallory" }) });
    await raw.next((f) => f.event === "pusher:error");
    expect((await raw.closed).code).toBe(4009);
  });
});

async function presenceOf(raw: Awaited<ReturnType<typeof rawConnected>>, name: string) {
  const channelData = JSON.stringify({ user_id: "probe" });
  raw.send("pusher:subscribe", {
    channel: name,
    auth: signChannel(raw.socketId, name, channelData),
    channel_data: channelData,
  });
  const ok = await raw.next((f) => f.event === "pusher_internal:subscription_succeeded");
  const { presence } = ok.data as { presence: { ids: string[]; count: number; hash: object } };
  return { ...presence, ids: presence.ids.filter((id) => id !== "probe"), count: presence.count - 1 };
}

async function signedTrigger(rt: Running, channel: string, name: string, data: string) {
  const { signedFetch } = await import("../support/realtime");
  const res = await signedFetch(rt, "POST", "/events", { body: JSON.stringify({ name, data, channel }) });
  expect(res.status).toBe(200);
}

/** Polls a condition on the server's state (no fixed sleeps: resolves as soon as it holds). */
async function waitFor(condition: () => boolean, timeoutMs = 5000) {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error("condition not met in time");
    await new Promise((r) => setImmediate(r));
  }
}
