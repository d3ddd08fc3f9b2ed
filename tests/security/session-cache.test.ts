import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { session } from "@/db/schema";
import type { HttpDeps } from "@/server/http/deps";
import { cachedSession, SESSION_CACHE_MS } from "@/server/session-cache";
import { openTestDb, testDbKinds } from "../support/db";
import { APP, httpTestDeps, signInCookie, signOut } from "../support/http";

/**
 * The ≤ 5 s session cache (issue 11, within what issue 12 allows): sign-out here ends access at
 * once; a session ended elsewhere (its row gone, as another web process would leave it) is
 * honoured at most SESSION_CACHE_MS longer. Time is passed in, never waited for.
 */
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
});
