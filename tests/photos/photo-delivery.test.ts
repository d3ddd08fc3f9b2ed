import type PusherClient from "pusher-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { decodeEvent, type MessageEvent } from "@/protocol/events";
import { pusherGateway } from "@/server/chat/gateway";
import type { HttpDeps } from "@/server/http/deps";
import { uploadPhoto } from "@/server/http/photo-api";
import { appPusherClient } from "../support/app-client";
import { openTestDb, testDbKinds } from "../support/db";
import { httpTestDeps, signInCookie } from "../support/http";
import { noiseJpeg, photoUpload, smallPng } from "../support/photos";
import { nextEvent, type Running, startRealtime, subscribed } from "../support/realtime";

/**
 * A photo is a message on the wire too: upload route → database → `pusher` SDK → our realtime
 * server → pusher-js, with its seq and the shape a client lays it out by.
 */
describe.each(testDbKinds)("photos delivered live on %s", (kind) => {
  let handle: DbHandle;
  let rt: Running;
  let deps: HttpDeps;
  const clients: PusherClient[] = [];
  const cookie: Record<string, string> = {};
  beforeAll(async () => {
    handle = await openTestDb(kind);
    rt = await startRealtime();
    deps = await httpTestDeps(handle, { publisher: rt.sdk, realtime: pusherGateway(rt.sdk) });
    cookie.player = await signInCookie(deps, "player29@floorline.test");
    cookie.staff = await signInCookie(deps, "asha@floorline.test");
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await rt?.close();
    await handle?.close();
  });
  const clientAs = (who: string) => {
    const client = appPusherClient(rt, deps, cookie[who] ?? null);
    clients.push(client);
    return client;
  };

  it("a player's photo reaches staff, and staff's photo reaches the player without staff ids", async () => {
    const staffChannel = await subscribed(clientAs("staff"), "private-staff-portal");
    const playerChannel = await subscribed(clientAs("player"), "private-player-29");

    const toStaff = nextEvent(staffChannel, "chat-message-received");
    const sent = await uploadPhoto(
      deps,
      photoUpload(await smallPng(), { cookie: cookie.player, query: { text: "receipt" } }),
    );
    const stored = (await sent.json()) as MessageEvent;
    const heard = decodeEvent<MessageEvent>(await toStaff);
    expect(heard.message).toMatchObject({
      id: stored.message.id,
      seq: stored.message.seq,
      messageText: "receipt",
      photo: { type: "image/png", width: 200, height: 100, thumbWidth: 200, thumbHeight: 100 },
    });

    const toPlayer = nextEvent(playerChannel, "chat-message-received");
    const reply = await uploadPhoto(
      deps,
      photoUpload(await noiseJpeg(), { cookie: cookie.staff, query: { requestId: stored.request.id } }),
    );
    expect(reply.status).toBe(201);
    const got = decodeEvent<MessageEvent>(await toPlayer);
    expect(got.message).toMatchObject({
      sender: "staff",
      senderUserId: null,
      messageText: "Photo",
      seq: stored.message.seq + 1,
      photo: { type: "image/jpeg", width: 640, height: 480 },
    });
  });
});
