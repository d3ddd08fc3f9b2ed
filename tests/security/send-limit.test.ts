import { randomUUID } from "node:crypto";
import { count, eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { chatMessages, players } from "@/db/schema";
import { unifiedSend } from "@/server/http/club-api";
import type { HttpDeps } from "@/server/http/deps";
import { trpcRoute } from "@/server/http/guarded-routes";
import { openTestDb, testDbKinds } from "../support/db";
import { httpTestDeps, jsonRequest, signInCookie, trpcRequest } from "../support/http";

/** Finding 7: a player could send as fast as the network allows. */
describe.each(testDbKinds)("the per-player send limit on %s", (kind) => {
  let handle: DbHandle;
  let deps: HttpDeps;
  const cookies: Record<number, string> = {};
  beforeAll(async () => {
    handle = await openTestDb(kind);
    // A message a minute after the burst: however long the sends take on a busy machine (at 1/s,
    // four sends that took over a second let the fourth through), the allowance cannot grow
    // before the test's own timeout. Time passing is `elapse` below, not a wait.
    deps = { ...(await httpTestDeps(handle)), sendLimit: { burst: 3, perSecond: 1 / 60 } };
    for (const id of [29, 30, 31]) cookies[id] = await signInCookie(deps, `player${id}@floorline.test`);
  });
  afterAll(async () => {
    await handle?.close();
  });

  const stored = async (playerId: number) =>
    (await handle.db.select({ n: count() }).from(chatMessages).where(eq(chatMessages.playerId, playerId)))[0]?.n;
  /** `seconds` pass for the limit: the allowance is one timestamp (GCRA), so moving it back is the same. */
  const elapse = (playerId: number, seconds: number) =>
    handle.db
      .update(players)
      .set({ sendAllowanceAt: sql`${players.sendAllowanceAt} - make_interval(secs => ${seconds})` })
      .where(eq(players.id, playerId));
  /** The 429's wait: whole seconds, at most one refill (60 s), and the sentence says the same. */
  function expectAnnounced(error: { message: string; retryAfterSeconds: number }) {
    const wait = error.retryAfterSeconds;
    expect(Number.isInteger(wait)).toBe(true);
    expect(wait).toBeGreaterThan(0);
    expect(wait).toBeLessThanOrEqual(60);
    expect(error.message).toBe(`Slow down — sending again in ${wait} s`);
    return wait;
  }
  const send = (as: HttpDeps, playerId: number, id = randomUUID()) =>
    unifiedSend(as, jsonRequest("/api/unified-chat/send", { cookie: cookies[playerId], body: { id, text: "hi" } }));

  it("allows a burst, then answers 429 with the wait; a resend of a stored id is never limited", async () => {
    const ids = [randomUUID(), randomUUID(), randomUUID()];
    for (const id of ids) expect((await send(deps, 29, id)).status).toBe(201);
    const over = await send(deps, 29);
    expect(over.status).toBe(429);
    const wait = expectAnnounced((await over.json()).error);
    expect(over.headers.get("retry-after")).toBe(String(wait));
    expect(await stored(29)).toBe(3);
    expect((await send(deps, 29, ids[0])).status).toBe(200);

    // The wait the server announced is enough.
    await elapse(29, wait);
    expect((await send(deps, 29)).status).toBe(201);
  });

  it("answers tRPC with TOO_MANY_REQUESTS and the wait in the error data", async () => {
    const call = () =>
      trpcRoute(
        trpcRequest("chat.send", { cookie: cookies[30], mutation: true, input: { id: randomUUID(), text: "hi" } }),
        deps,
      );
    for (let i = 0; i < 3; i++) expect((await call()).status).toBe(200);
    const over = await call();
    expect(over.status).toBe(429);
    const { error } = await over.json();
    expect(error.json.data.code).toBe("TOO_MANY_REQUESTS");
    expectAnnounced({ message: error.json.message, retryAfterSeconds: error.json.data.retryAfterSeconds });
  });

  it("is one limit across web instances: 12 concurrent sends through two instances store exactly the burst", async () => {
    // deps' refill (a minute) is too slow to matter while the twelve sends run.
    const one: HttpDeps = { ...deps };
    const other: HttpDeps = { ...one };
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => send(i % 2 ? one : other, 31)));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(3);
    expect(statuses.filter((s) => s === 429)).toHaveLength(9);
    expect(await stored(31)).toBe(3);
  });

  it("PLAYER_SEND_PER_SECOND=0 turns it off", async () => {
    const unlimited = { ...deps, sendLimit: { burst: 1, perSecond: 0 } };
    const before = (await stored(30)) ?? 0;
    for (let i = 0; i < 10; i++) expect((await send(unlimited, 30)).status).toBe(201);
    expect(await stored(30)).toBe(before + 10);
  });
});
