import { randomUUID } from "node:crypto";
import { eq, sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { chatEvents, chatRequests } from "@/db/schema";
import { expectedWaitSeconds } from "@/server/chat/metrics";
import { openTestDb, testDbKinds } from "../support/db";
import { makePlayer, makeStaff } from "../support/fixtures";
import { refusal } from "../support/trpc";

describe.each(testDbKinds)("metrics from the timeline on %s", (kind) => {
  let handle: DbHandle;
  beforeAll(async () => {
    handle = await openTestDb(kind);
  });
  afterAll(async () => {
    await handle?.close();
  });

  /** Moves a request's timeline and first response back so its durations are known. */
  async function age(requestId: string, created: number, assigned: number, resolved: number) {
    const at = (secondsAgo: number) => sql`now() - make_interval(secs => ${secondsAgo})`;
    await handle.db
      .update(chatEvents)
      .set({ at: at(created) })
      .where(sql`${chatEvents.requestId} = ${requestId} and ${chatEvents.type} = 'created'`);
    await handle.db
      .update(chatEvents)
      .set({ at: at(assigned) })
      .where(sql`${chatEvents.requestId} = ${requestId} and ${chatEvents.type} = 'claimed'`);
    await handle.db
      .update(chatEvents)
      .set({ at: at(resolved) })
      .where(sql`${chatEvents.requestId} = ${requestId} and ${chatEvents.type} = 'resolved'`);
    await handle.db
      .update(chatRequests)
      .set({ firstResponseAt: at(assigned) })
      .where(eq(chatRequests.id, requestId));
  }

  it("median and p90 of wait, first response and resolution; per-staff counts; waiting over the day", async () => {
    const asha = await makeStaff(handle.db, "Asha M");
    const waits = [10, 20, 30, 40, 100];
    // Three of the five players rate the chat: 5, 4 and 2 average 3.7 (one decimal).
    const ratings = [5, 4, 2];
    for (const wait of waits) {
      const player = await makePlayer(handle.db);
      const sent = await player.caller.chat.send({ id: randomUUID(), text: "hi" });
      await asha.caller.staff.claim({ requestId: sent.request.id });
      await asha.caller.staff.reply({ requestId: sent.request.id, id: randomUUID(), text: "hello" });
      await asha.caller.staff.resolve({ requestId: sent.request.id });
      // All inside today even just after midnight: at most 300 s ago.
      await age(sent.request.id, 300, 300 - wait, 100);
      const rating = ratings.shift();
      if (rating) await player.caller.chat.rate({ requestId: sent.request.id, rating });
    }
    const m = await asha.caller.staff.metrics();
    expect(m.today).toMatchObject({ requests: 5, resolved: 5, waitMedian: 30, firstResponseMedian: 30 });
    // percentile_cont interpolates: p90 of 10,20,30,40,100 = 40 + 0.6 × 60.
    expect(m.today.waitP90).toBe(76);
    expect(m.today.resolutionMedian).toBe(200);
    expect(m.today).toMatchObject({ rated: 3, ratingAverage: 3.7 });
    expect(m.week.requests).toBeGreaterThanOrEqual(5);
    expect(m.staff.find((s) => s.userId === asha.user.id)).toMatchObject({
      name: "Asha M",
      taken: 5,
      resolved: 5,
      rated: 3,
      ratingAverage: 3.7,
    });
    expect(m.waiting.length).toBeGreaterThan(0);
    expect(m.waiting.every((p) => p.waiting >= 0)).toBe(true);
    expect(await expectedWaitSeconds(handle.db)).toBe(30);

    const player = await makePlayer(handle.db);
    await player.caller.chat.send({ id: randomUUID(), text: "how long?" });
    expect((await player.caller.chat.status()).expectedWaitSeconds).toBe(30);
    expect((await refusal(player.caller.staff.metrics())).code).toBe("FORBIDDEN");
  });
});
