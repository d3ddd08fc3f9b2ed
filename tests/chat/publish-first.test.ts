import { randomUUID } from "node:crypto";
import { Socket } from "node:net";
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
 * all promise jobs: without the wait every delivery waited for the answer. Observed as the
 * request lines written to sockets, whichever HTTP client writes them (publisher.ts).
 */
describe.each(testDbKinds)("a publish leaves before the answer on %s", (kind) => {
  let handle: DbHandle;
  let rt: Running;
  let deps: ChatDeps;
  const started: string[] = [];
  const write = Socket.prototype.write;

  beforeAll(async () => {
    // Every socket write of the process, for the request lines in it (restored after the suite).
    Socket.prototype.write = function (this: Socket, chunk: unknown, ...rest: unknown[]) {
      const path = /^POST (\S+)/.exec(typeof chunk === "string" ? chunk : "")?.[1];
      if (path) started.push(path);
      return (write as (chunk: unknown, ...rest: unknown[]) => boolean).call(this, chunk, ...rest);
    } as Socket["write"];
    handle = await openTestDb(kind);
    rt = await startRealtime();
    const publisher = createPublisher({ ...APP, host: "127.0.0.1", port: rt.port, useTLS: false });
    deps = { db: handle.db, realtime: pusherGateway(publisher) };
  });
  afterAll(async () => {
    Socket.prototype.write = write;
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
