import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import type PusherClient from "pusher-js";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { chatRequests, staff } from "@/db/schema";
import { escalate } from "@/server/chat/actions";
import { pusherGateway } from "@/server/chat/gateway";
import { createChatNotifications } from "@/server/notify/chat-notifications";
import { createNotifier, type Notifier } from "@/server/notify/notifier";
import { createOneSignalClient, type OneSignalClientOptions } from "@/server/notify/onesignal";
import { pushIdentity } from "@/server/notify/push-identity";
import { openTestDb, testDbKinds } from "../support/db";
import { makePlayer, makeStaff } from "../support/fixtures";
import { manualTimeouts } from "../support/manual-timeouts";
import { startOneSignalStandIn } from "../support/onesignal-standin";
import { connectClient, nextEvent, type Running, startRealtime, subscribed } from "../support/realtime";

type StandIn = Awaited<ReturnType<typeof startOneSignalStandIn>>;

/**
 * Push notifications through the real chat path, against a local stand-in that checks every
 * request the way OneSignal does, with our realtime server delivering the chat itself.
 */
const pushIdOf = pushIdentity("test-secret");

describe.each(testDbKinds)("staff push notifications on %s", (kind) => {
  let handle: DbHandle;
  let rt: Running;
  let oneSignal: StandIn;
  let notifier: Notifier;
  let pushes: ReturnType<typeof createChatNotifications>;
  const clients: PusherClient[] = [];
  const logs: string[] = [];

  beforeAll(async () => {
    handle = await openTestDb(kind);
    rt = await startRealtime();
  });
  afterEach(async () => {
    for (const c of clients.splice(0)) c.disconnect();
    await notifier?.stop();
    await oneSignal?.close();
  });
  afterAll(async () => {
    await rt?.close();
    await handle?.close();
  });

  async function setUp(
    opts: {
      timeoutMs?: number;
      maxAttempts?: number;
      backoffMs?: number;
      startTimeout?: OneSignalClientOptions["startTimeout"];
      showPlayerDetails?: boolean;
    } = {},
  ) {
    oneSignal = await startOneSignalStandIn();
    logs.length = 0;
    const client = createOneSignalClient({
      appId: oneSignal.appId,
      apiKey: oneSignal.apiKey,
      baseUrl: oneSignal.url,
      timeoutMs: opts.timeoutMs ?? 2000,
      maxAttempts: opts.maxAttempts ?? 2,
      backoffMs: opts.backoffMs ?? 5,
      startTimeout: opts.startTimeout,
      log: (m) => logs.push(m),
    });
    notifier = createNotifier({ client, log: (m) => logs.push(m) });
    const realtime = pusherGateway(rt.sdk);
    const notifications = createChatNotifications({
      db: handle.db,
      notifier,
      realtime,
      appUrl: "http://floor.test",
      pushIdOf,
      showPlayerDetails: opts.showPlayerDetails ?? true,
    });
    pushes = notifications;
    // Only the staff made by this test accept chats, so recipients are predictable.
    await handle.db.update(staff).set({ acceptingChats: false });
    const onDuty = await makeStaff(handle.db, "On duty", { realtime, notifications });
    const offDuty = await makeStaff(handle.db, "Off duty", { realtime, notifications });
    await handle.db.update(staff).set({ acceptingChats: false }).where(eq(staff.userId, offDuty.user.id));
    const player = await makePlayer(handle.db, "Ravi", { realtime, notifications });
    return { onDuty, offDuty, player, realtime, notifications };
  }

  it('by default says only "New message from a player", to an opaque id', async () => {
    const { onDuty, player } = await setUp({ showPlayerDetails: false });
    await player.caller.chat.send({ id: randomUUID(), text: "My card number is 4111" });
    await pushes.idle();
    const body = oneSignal.accepted[0]?.body as Record<string, unknown>;
    expect(body).toMatchObject({
      include_aliases: { external_id: [pushIdOf(onDuty.user.id)] },
      headings: { en: "Floorline" },
      contents: { en: "New message from a player" },
    });
    expect(JSON.stringify(body)).not.toMatch(/Ravi|card number/);
    expect(JSON.stringify(body)).not.toContain(onDuty.user.id);
  });

  it("pushes a new request once to staff accepting chats, and again when it escalates", async () => {
    const { onDuty, player, realtime, notifications } = await setUp();
    const sent = await player.caller.chat.send({ id: randomUUID(), text: "Need chips at table 7" });
    await player.caller.chat.send({ id: randomUUID(), text: "hello?" }); // waiting, not new: no second push
    await pushes.idle();
    expect(oneSignal.accepted).toHaveLength(1);
    const push = oneSignal.accepted[0]?.body as Record<string, unknown>;
    expect(push).toMatchObject({
      app_id: oneSignal.appId,
      target_channel: "push",
      include_aliases: { external_id: [pushIdOf(onDuty.user.id)] },
      headings: { en: `New chat: Ravi (#${player.player.id})` },
      contents: { en: "Need chips at table 7" },
      web_url: `http://floor.test/staff?request=${sent.request.id}`,
    });

    // Backdate the request so it has waited past the escalation time.
    await handle.db
      .update(chatRequests)
      .set({ createdAt: new Date(Date.now() - 120_000) })
      .where(eq(chatRequests.id, sent.request.id));
    const escalated = await escalate({ db: handle.db, realtime, notifications }, { waitedMs: 60_000 });
    expect(escalated.map((r) => r.id)).toContain(sent.request.id);
    expect(await escalate({ db: handle.db, realtime, notifications }, { waitedMs: 60_000 })).toEqual([]);
    await pushes.idle();
    expect(oneSignal.accepted).toHaveLength(2);
    expect(oneSignal.accepted[1]?.body).toMatchObject({
      include_aliases: { external_id: [pushIdOf(onDuty.user.id)] },
      headings: { en: `Still waiting: Ravi (#${player.player.id})` },
    });
  });

  it("pushes a message in an assigned chat to its holder, unless they are viewing it", async () => {
    const { onDuty, player } = await setUp();
    const first = await player.caller.chat.send({ id: randomUUID(), text: "first" });
    await onDuty.caller.staff.claim({ requestId: first.request.id });
    await pushes.idle();
    const before = oneSignal.accepted.length;

    await player.caller.chat.send({ id: randomUUID(), text: "are you there?" });
    await pushes.idle();
    expect(oneSignal.accepted.length).toBe(before + 1);
    expect(oneSignal.accepted.at(-1)?.body).toMatchObject({
      include_aliases: { external_id: [pushIdOf(onDuty.user.id)] },
      contents: { en: "are you there?" },
    });

    // The holder opens the conversation: their client joins the viewing presence channel.
    const viewer = connectClient(rt, { presence: { user_id: pushIdOf(onDuty.user.id) } });
    clients.push(viewer);
    await subscribed(viewer, `presence-viewing-${player.player.id}`);
    await player.caller.chat.send({ id: randomUUID(), text: "still there?" });
    await pushes.idle();
    expect(oneSignal.accepted.length).toBe(before + 1);
  });

  it("sends nothing when nobody accepts chats", async () => {
    const { onDuty, player } = await setUp();
    await handle.db.update(staff).set({ acceptingChats: false }).where(eq(staff.userId, onDuty.user.id));
    await player.caller.chat.send({ id: randomUUID(), text: "anyone?" });
    await pushes.idle();
    expect(oneSignal.requests).toHaveLength(0);
  });

  it.each(["hanging", "failing"] as const)("completes and delivers a send while OneSignal is %s", async (trouble) => {
    // OneSignal holds the push until this test lets it go, and the test lets it go only after the
    // send has answered: "hanging" never answers (each attempt ends when the test expires its
    // timeout), "failing" answers 500 and holds the retry the same way. A send that waited for
    // its push could never answer (this test would time out); one that does not answers first,
    // however slow the machine.
    const timeouts = manualTimeouts();
    const { player } = await setUp({ timeoutMs: 1500, maxAttempts: 2, startTimeout: timeouts.start });
    if (trouble === "failing") oneSignal.fail(1, 500);
    oneSignal.hang();
    const staffSocket = connectClient(rt);
    clients.push(staffSocket);
    const staffChannel = await subscribed(staffSocket, "private-staff-portal");
    const delivered = nextEvent(staffChannel, "chat-message-received");

    const sent = await player.caller.chat.send({ id: randomUUID(), text: "is the bar open?" });
    let pushSettled = false;
    void pushes.idle().then(() => {
      pushSettled = true;
    });
    expect(sent.message.messageText).toBe("is the bar open?");
    await delivered;
    // The send has answered and its message is delivered while OneSignal still holds the push
    // (held open, or its retry held after a 500).
    const held = await oneSignal.waitForRequests(trouble === "hanging" ? 1 : 2);
    expect(held.map((r) => r.status)).toEqual(trouble === "hanging" ? [undefined] : [500, undefined]);
    expect(pushSettled).toBe(false);

    // Now let the push run out: every attempt left times out once it has reached OneSignal.
    timeouts.expire();
    if (trouble === "hanging") {
      await oneSignal.waitForRequests(2);
      timeouts.expire();
    }
    await pushes.idle();
    expect(oneSignal.requests).toHaveLength(2);
    expect(oneSignal.accepted).toHaveLength(0);
    expect(logs).toEqual([expect.stringMatching(/gave up after 2 attempts: timed out after 1500 ms/)]);
  });
});
