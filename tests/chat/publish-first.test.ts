import { randomUUID } from "node:crypto";
import dc from "node:diagnostics_channel";
import type { ClientRequest } from "node:http";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { type ChatDeps, messagePlayerAsStaff, replyAsStaffMember, sendAsPlayer } from "@/server/chat/actions";
import { pusherGateway } from "@/server/chat/gateway";
import { createPublisher } from "@/server/realtime/publisher";
import { openTestDb, testDbKinds } from "../support/db";
import { makePlayer, makeStaff } from "../support/fixtures";
import { APP, type Running, startRealtime } from "../support/realtime";

/**
 * Issue 11: a use case that publishes returns only once its publish request has left for the
 * realtime server. Node's HTTP client writes a request on its socket in a tick after the promise
 * jobs run out, and the answer to the client (tRPC's unwinding, the serialisation, the write) is
 * all promise jobs: without the wait every delivery waited for the answer. Observed through
 * Node's own `http.client.request.start` channel, published just before the request is written.
 */
describe.each(testDbKinds)("a publish leaves before the answer on %s", (kind) => {
  let handle: DbHandle;
  let rt: Running;
  let deps: ChatDeps;
  const started: string[] = [];
  const onStart = (message: unknown) => started.push((message as { request: ClientRequest }).request.path);

  beforeAll(async () => {
    handle = await openTestDb(kind);
    rt = await startRealtime();
    const publisher = createPublisher({ ...APP, host: "127.0.0.1", port: rt.port, useTLS: false });
    deps = { db: handle.db, realtime: pusherGateway(publisher) };
    dc.subscribe("http.client.request.start", onStart);
  });
  afterAll(async () => {
    dc.unsubscribe("http.client.request.start", onStart);
    await deps?.realtime.idle();
    await rt?.close();
    await handle?.close();
  });
  beforeEach(async () => {
    await deps.realtime.idle(); // nothing of an earlier call on the wire: each publish leaves at once
    started.length = 0;
  });
  const publishes = () => started.filter((path) => path.includes("/batch_events"));

  it("a player's send that opens a chat, and one into it", async () => {
    const { player } = await makePlayer(handle.db);
    await sendAsPlayer(deps, { id: randomUUID(), text: "opens the chat", player });
    expect(publishes()).toHaveLength(1);
    await deps.realtime.idle();
    started.length = 0;

    await sendAsPlayer(deps, { id: randomUUID(), text: "into it", player });
    expect(publishes()).toHaveLength(1);
  });

  it("a staff reply, and a staff message by Player ID", async () => {
    const { player } = await makePlayer(handle.db);
    const member = await makeStaff(handle.db);
    const sent = await sendAsPlayer(deps, { id: randomUUID(), text: "help", player });
    await replyAsStaffMember(deps, {
      requestId: sent.request.id,
      id: randomUUID(),
      text: "takes it",
      staff: member.staff,
    });
    await deps.realtime.idle();
    started.length = 0;

    await replyAsStaffMember(deps, {
      requestId: sent.request.id,
      id: randomUUID(),
      text: "again",
      staff: member.staff,
    });
    expect(publishes()).toHaveLength(1);

    await deps.realtime.idle();
    started.length = 0;
    await messagePlayerAsStaff(deps, { playerId: player.id, id: randomUUID(), text: "by id", staff: member.staff });
    expect(publishes()).toHaveLength(1);
  });
});
