import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { session } from "@/db/schema";
import type { Auth } from "@/server/auth";
import type { HttpDeps } from "@/server/http/deps";
import { cachedSession, REFRESH_AHEAD_MS, SESSION_CACHE_MS } from "@/server/session-cache";
import { openTestDb, testDbKinds } from "../support/db";
import { APP, httpTestDeps, signInCookie, signOut } from "../support/http";

/**
 * The ≤ 5 s session cache (issue 11, within what issue 12 allows): sign-out here ends access at
 * once; a session ended elsewhere (its row gone, as another web process would leave it) is
 * honoured at most SESSION_CACHE_MS longer. Time is passed in, never waited for.
 */

/**
 * The real auth, its getSession counted; while held, each lookup's answer (read from the database
 * at once) is handed back only on release, so a test can act while a lookup is in flight.
 */
function countedAuth(real: Auth) {
  let hold: Promise<void> | null = null;
  let release = () => {};
  const pending: Promise<unknown>[] = [];
  const counted = {
    lookups: 0,
    /** Lookups that have read the database (their answer may still be held). */
    reads: 0,
    hold() {
      hold = new Promise<void>((resolve) => {
        release = resolve;
      });
    },
    release() {
      hold = null;
      release();
    },
    /** Every lookup so far has answered (and the cache has dealt with its answer). */
    settled: () => Promise.allSettled(pending),
    auth: {
      api: {
        getSession: (...args: Parameters<Auth["api"]["getSession"]>) => {
          counted.lookups++;
          const held = hold;
          const answer = (async () => {
            const session = await real.api.getSession(...args);
            counted.reads++;
            if (held) await held;
            return session;
          })();
          pending.push(answer);
          return answer;
        },
      },
    } as unknown as Auth,
  };
  return counted;
}
describe.each(testDbKinds)("session cache on %s", (kind) => {
  let handle: DbHandle;
  let deps: HttpDeps;
  beforeAll(async () => {
    handle = await openTestDb(kind);
    deps = await httpTestDeps(handle);
  });
  afterAll(async () => {
    await handle?.close();
  });
  const headers = (cookie: string) => new Headers({ cookie: `theme=dark; ${cookie}`, origin: APP });

  /** A new session, cached through a counted auth at `now`; `late` is in its refresh-ahead part. */
  async function cachedSignIn() {
    const cookie = await signInCookie(deps, "player31@floorline.test");
    const counted = countedAuth(deps.auth);
    const now = Date.now();
    const first = await cachedSession(counted.auth, headers(cookie), now);
    if (!first) throw new Error("no session");
    expect(counted.lookups).toBe(1);
    const at = (time: number) => cachedSession(counted.auth, headers(cookie), time);
    return { cookie, counted, now, first, late: now + SESSION_CACHE_MS - REFRESH_AHEAD_MS + 1, at };
  }

  it("a session ended in another process is honoured for at most the window, then refused", async () => {
    const cookie = await signInCookie(deps, "player29@floorline.test");
    const now = Date.now();
    const first = await cachedSession(deps.auth, headers(cookie), now);
    expect(first?.user.email).toBe("player29@floorline.test");
    if (!first) throw new Error("no session");
    await handle.db.delete(session).where(eq(session.id, first.session.id));

    expect((await cachedSession(deps.auth, headers(cookie), now + 1))?.session.id).toBe(first.session.id);
    expect(await cachedSession(deps.auth, headers(cookie), now + SESSION_CACHE_MS + 1)).toBeNull();
  });

  it("sign-out in this process is refused at once, inside the window", async () => {
    const cookie = await signInCookie(deps, "player30@floorline.test");
    const now = Date.now();
    expect(await cachedSession(deps.auth, headers(cookie), now)).not.toBeNull();
    await signOut(deps, cookie);
    expect(await cachedSession(deps.auth, headers(cookie), now + 1)).toBeNull();
  });

  it("never caches the absence of a session: a new sign-in is seen at once", async () => {
    const now = Date.now();
    expect(await cachedSession(deps.auth, new Headers({ cookie: "better-auth.session_token=nope" }), now)).toBeNull();
    const cookie = await signInCookie(deps, "player31@floorline.test");
    expect((await cachedSession(deps.auth, headers(cookie), now + 1))?.user.email).toBe("player31@floorline.test");
  });

  it("a hit in the last part of its window answers at once and starts one lookup for a burst", async () => {
    const { counted, first, late, at } = await cachedSignIn();
    counted.hold();
    // The refresh is held, so these can only answer from the cache.
    const burst = await Promise.all([0, 1, 2, 3, 4].map((i) => at(late + i)));
    expect(burst.map((s) => s?.session.id)).toEqual([0, 1, 2, 3, 4].map(() => first.session.id));
    expect(counted.lookups).toBe(2);
    counted.release();
    await counted.settled();
    expect(counted.lookups).toBe(2);
  });

  it("a refresh renews the window from when it started", async () => {
    const { counted, now, late, at } = await cachedSignIn();
    await at(late);
    await counted.settled();
    expect(counted.lookups).toBe(2);

    // Past the first window, inside the renewed one (and before its own refresh-ahead part).
    expect((await at(now + SESSION_CACHE_MS + 1))?.user.email).toBe("player31@floorline.test");
    expect(counted.lookups).toBe(2);
    // Never served past the renewed window: the refresh's start plus SESSION_CACHE_MS.
    await at(late + SESSION_CACHE_MS);
    expect(counted.lookups).toBe(3);
  });

  it("a refresh that finds the session gone drops it before its window ends", async () => {
    const { counted, first, late, at } = await cachedSignIn();
    await handle.db.delete(session).where(eq(session.id, first.session.id));
    expect((await at(late))?.session.id).toBe(first.session.id);
    await counted.settled();
    expect(await at(late + 1)).toBeNull();
    expect(counted.lookups).toBe(3);
  });

  it("a sign-out while a lookup is in flight keeps its answer out of the cache", async () => {
    const cookie = await signInCookie(deps, "player31@floorline.test");
    const counted = countedAuth(deps.auth);
    const now = Date.now();
    counted.hold();
    const inFlight = cachedSession(counted.auth, headers(cookie), now);
    // The lookup has read the live session; sign-out (auth.ts's hook forgets it) lands before the
    // cache hears the answer.
    await expect.poll(() => counted.reads).toBe(1);
    await signOut(deps, cookie);
    counted.release();
    expect((await inFlight)?.user.email).toBe("player31@floorline.test");

    expect(await cachedSession(counted.auth, headers(cookie), now + 1)).toBeNull();
    expect(counted.lookups).toBe(2);
  });

  it("a sign-out while a refresh is in flight keeps its answer out of the cache", async () => {
    const { cookie, counted, first, late, at } = await cachedSignIn();
    counted.hold();
    expect((await at(late))?.session.id).toBe(first.session.id);
    expect(counted.lookups).toBe(2);
    // The refresh has read the live session; sign-out lands before the cache hears its answer.
    await expect.poll(() => counted.reads).toBe(2);
    await signOut(deps, cookie);
    counted.release();
    await counted.settled();

    expect(await at(late + 1)).toBeNull();
    expect(counted.lookups).toBe(3);
  });

  it("a refresh that fails leaves the entry to expire as it would", async () => {
    // An auth of its own, over a database that then goes away under it.
    const own = await openTestDb(kind);
    const ownDeps = await httpTestDeps(own);
    const cookie = await signInCookie(ownDeps, "player31@floorline.test");
    const counted = countedAuth(ownDeps.auth);
    const now = Date.now();
    const first = await cachedSession(counted.auth, headers(cookie), now);
    await own.close();

    const late = now + SESSION_CACHE_MS - REFRESH_AHEAD_MS + 1;
    expect((await cachedSession(counted.auth, headers(cookie), late))?.session.id).toBe(first?.session.id);
    const [refresh] = (await counted.settled()).slice(1);
    expect(refresh?.status).toBe("rejected");
    // Still served until its window ends (the next hit may try again, one at a time).
    expect((await cachedSession(counted.auth, headers(cookie), late + 1))?.session.id).toBe(first?.session.id);
    await expect(cachedSession(counted.auth, headers(cookie), now + SESSION_CACHE_MS)).rejects.toThrow();
  });
});
