import { randomUUID } from "node:crypto";
import type PusherClient from "pusher-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { decodeEvent, type MessageEvent, type RequestEvent, type StatusEvent } from "@/protocol/events";
import { pusherGateway } from "@/server/chat/gateway";
import type { HttpDeps } from "@/server/http/deps";
import { authorizeChannel } from "@/server/realtime-auth";
import { realtimeUserId } from "@/server/revocation";
import { createContextInner } from "@/server/trpc/init";
import { createCaller } from "@/server/trpc/root";
import { appPusherClient } from "../support/app-client";
import { openTestDb, testDbKinds } from "../support/db";
import { APP as APP_URL, httpTestDeps, signInCookie } from "../support/http";
import { connected, nextEvent, type Running, startRealtime, subscribed } from "../support/realtime";

/**
 * The whole path with real parts: tRPC procedure → Postgres/PGlite → official `pusher` SDK →
 * our realtime server → official `pusher-js` clients, authorized by the app's own endpoint.
 */
describe.each(testDbKinds)("live delivery and channel authorization on %s", (kind) => {
  let handle: DbHandle;
  let rt: Running;
  let deps: HttpDeps;
  const clients: PusherClient[] = [];
  const cookies: Record<string, string> = {};

  beforeAll(async () => {
    handle = await openTestDb(kind);
    rt = await startRealtime();
    deps = await httpTestDeps(handle, { publisher: rt.sdk, realtime: pusherGateway(rt.sdk) });
    for (const email of ["player29@floorline.test", "player30@floorline.test", "asha@floorline.test"]) {
      cookies[email] = await signInCookie(deps, email);
    }
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await rt?.close();
    await handle?.close();
  });

  /** pusher-js whose authorizers are the app's own route handlers, called with the session cookie. */
  function clientAs(email: string | null) {
    const client = appPusherClient(rt, deps, email ? (cookies[email] ?? "") : null);
    clients.push(client);
    return client;
  }
  /** tRPC as a demo player (`player{id}@floorline.test`), from the given socket when there is one. */
  async function playerCaller(id: number, socketId?: string) {
    const player = await deps.db.query.players.findFirst({ where: (p, { eq }) => eq(p.id, id) });
    if (!player) throw new Error(`demo player ${id} missing`);
    const email = `player${id}@floorline.test`;
    return createCaller(
      createContextInner({
        db: deps.db,
        realtime: deps.realtime,
        user: { id: player.userId, name: player.displayName, email, role: "player" },
        socketId,
      }),
    );
  }
  // pusher-js reports the authorizer's error as { type: "AuthError", error }.
  const refused = (status: number) => ({
    type: "AuthError",
    error: expect.stringMatching(new RegExp(`^Error: ${status} |^${status} `)),
  });
  const refusal = (client: PusherClient, channel: string) =>
    subscribed(client, channel).then(
      () => "subscribed",
      (err) => err.data,
    );

  it("lets a player hear only their own channel", async () => {
    const player = clientAs("player29@floorline.test");
    await subscribed(player, "private-player-29");
    expect(await refusal(player, "private-player-30")).toMatchObject(refused(403));
    expect(await refusal(player, "private-staff-portal")).toMatchObject(refused(403));
    expect(await refusal(player, "presence-staff")).toMatchObject(refused(403));
  });

  it("lets staff hear the staff channels and any player's", async () => {
    const staff = clientAs("asha@floorline.test");
    await subscribed(staff, "private-staff-portal");
    await subscribed(staff, "private-player-29");
    await subscribed(staff, "private-player-30");
    const presence = await subscribed(staff, "presence-staff");
    const members = (presence as unknown as { members: { me: { info: { name: string } } } }).members;
    expect(members.me.info.name).toBe("Asha (floor)");
  });

  it("signs a socket in as the session, so server-to-user events reach it", async () => {
    const staff = clientAs("asha@floorline.test");
    const got = new Promise((resolve) => staff.user.bind("shift-note", resolve));
    await connected(staff);
    staff.signin();
    await (staff.user as unknown as { signinDonePromise: Promise<void> }).signinDonePromise;
    // The realtime user is the session (so ending the session can close its sockets).
    const session = await deps.auth.api.getSession({
      headers: new Headers({ cookie: cookies["asha@floorline.test"] ?? "" }),
    });
    if (!session) throw new Error("demo staff session missing");
    const userId = realtimeUserId(session.session.id);
    // The user feed subscription follows sign-in; wait until the server has it.
    while (!rt.server.hub.channels.get(`#server-to-user-${userId}`)?.conns.size)
      await new Promise((r) => setImmediate(r));
    await rt.sdk.sendToUser(userId, "shift-note", { text: "Break at 9" });
    expect(await got).toEqual({ text: "Break at 9" });
  });

  it("refuses anonymous sockets", async () => {
    expect(await refusal(clientAs(null), "private-player-29")).toMatchObject(refused(401));
  });

  it("delivers the longest messages live, whatever their characters (an event carries the text with its request)", async () => {
    const staff = clientAs("asha@floorline.test");
    const staffChannel = await subscribed(staff, "private-staff-portal");
    const caller = await playerCaller(31);
    // 2,000 characters each: Devanagari is 3 bytes a character in UTF-8, a quote 2 in JSON, an
    // emoji 4 for its two. The first message is also the request's first and last message.
    for (const text of ["न".repeat(2000), '"'.repeat(2000), "🎰".repeat(1000)]) {
      const received = nextEvent(staffChannel, "chat-message-received");
      const sent = await caller.chat.send({ id: randomUUID(), text });
      expect(decodeEvent<MessageEvent>(await received).message).toEqual(sent.message);
    }
  });

  it("delivers a player's message to staff and the player's other tab, not to the sending tab", async () => {
    const staff = clientAs("asha@floorline.test");
    const staffChannel = await subscribed(staff, "private-staff-portal");
    const sendingTab = clientAs("player30@floorline.test");
    const otherTab = clientAs("player30@floorline.test");
    const sendingChannel = await subscribed(sendingTab, "private-player-30");
    const otherChannel = await subscribed(otherTab, "private-player-30");
    let echoed = 0;
    sendingChannel.bind("player-confirmation", () => echoed++);
    // Every event the staff channel carries for this send, by name.
    const onStaffChannel: string[] = [];
    staffChannel.bind_global((name: string) => {
      if (!name.startsWith("pusher")) onStaffChannel.push(name);
    });

    const newRequest = nextEvent(staffChannel, "new-chat-request");
    const received = nextEvent(staffChannel, "chat-message-received");
    const confirmation = nextEvent(otherChannel, "player-confirmation");

    const caller = await playerCaller(30, await connected(sendingTab));
    const id = randomUUID();
    const sent = await caller.chat.send({ id, text: "Is the bar open?" });

    const request = decodeEvent<RequestEvent>(await newRequest).request;
    expect(request).toMatchObject({ id: sent.request.id, playerId: 30, status: "waiting" });
    expect(request.createdAt).toBeInstanceOf(Date);
    // The seed's clients read plain JSON with these fields at the top level (issue 11).
    expect(await received).toMatchObject({
      id,
      message: "Is the bar open?",
      sender: "player",
      timestamp: sent.message.timestamp.toISOString(),
      seq: sent.message.seq,
      requestId: sent.request.id,
      playerId: 30,
      request: { id: sent.request.id, version: sent.request.version },
    });
    for (const raw of [await received, await confirmation]) {
      expect(decodeEvent<MessageEvent>(raw).message).toEqual(sent.message);
      expect(decodeEvent<MessageEvent>(raw).message).toMatchObject({
        id,
        seq: sent.message.seq,
        messageText: "Is the bar open?",
      });
    }
    // Events on one socket arrive in order: once a later event is in, an echo would have been too.
    const later = nextEvent(sendingChannel, "marker");
    await rt.sdk.trigger("private-player-30", "marker", {});
    await later;
    expect(echoed).toBe(0);
    // One message event per message on the staff channel: staff alerts read chat-message-received too (issue 11).
    const staffMarker = nextEvent(staffChannel, "marker");
    await rt.sdk.trigger("private-staff-portal", "marker", {});
    await staffMarker;
    expect(onStaffChannel).toEqual(["new-chat-request", "chat-message-received", "marker"]);

    // Staff replies reach the player as chat-message-received and new-gre-message; receipts follow.
    // Asha, who takes chats (the demo admin does not, and a reply to a waiting chat takes it).
    const asha = await deps.db.query.staff.findFirst({ where: (s, { eq }) => eq(s.displayName, "Asha (floor)") });
    if (!asha) throw new Error("demo staff missing");
    const staffCaller = createCaller(
      createContextInner({
        db: deps.db,
        realtime: deps.realtime,
        user: { id: asha.userId, name: asha.displayName, email: "asha@floorline.test", role: "staff" },
      }),
    );
    const reply = nextEvent(otherChannel, "chat-message-received");
    const gre = nextEvent(otherChannel, "new-gre-message");
    const status = nextEvent(otherChannel, "message-status");
    await staffCaller.staff.markMessages({ playerId: 30, status: "read", upToSeq: sent.message.seq });
    expect(decodeEvent<StatusEvent>(await status)).toEqual({
      playerId: 30,
      sender: "player",
      status: "read",
      upToSeq: sent.message.seq,
    });
    await staffCaller.staff.reply({ requestId: sent.request.id, id: randomUUID(), text: "Until 2am" });
    expect(decodeEvent<MessageEvent>(await reply).message).toMatchObject({
      sender: "staff",
      messageText: "Until 2am",
      seq: sent.message.seq + 1,
      senderName: asha.displayName,
      // Staff user ids never reach a player's channel.
      senderUserId: null,
    });
    expect(decodeEvent<MessageEvent>(await gre).request).toMatchObject({
      status: "in_progress",
      assignedStaffId: null,
    });
  });

  it("answers a malformed authorization request with 400", async () => {
    const response = await authorizeChannel(
      deps,
      new Request(`${APP_URL}/api/realtime/auth`, {
        method: "POST",
        headers: { "content-type": "application/x-www-form-urlencoded", cookie: cookies["asha@floorline.test"] ?? "" },
        body: "socket_id=nonsense&channel_name=private-staff-portal",
      }),
    );
    expect(response.status).toBe(400);
    expect((await response.json()).error.message).toMatch(/socket_id/);
  });
});
