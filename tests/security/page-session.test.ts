import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { DbHandle } from "@/db/client";
import type { Auth } from "@/server/auth";
import type { HttpDeps } from "@/server/http/deps";
import { openTestDb, testDbKinds } from "../support/db";
import { APP, httpTestDeps, signInCookie, signOut } from "../support/http";

// A page's request as Next hands it to a server component (guards.ts reads it with headers()).
const request = vi.hoisted(() => ({ headers: new Headers() }));
vi.mock("next/headers", () => ({ headers: async () => request.headers }));
// guards.ts may run only on the server: this is the server.
vi.mock("server-only", () => ({}));

const { requireRole } = await import("@/app/_auth/guards");
const { getSession } = await import("@/server/auth");

/**
 * Pages find who a request is through the session cache (server/auth.ts getSession →
 * session-cache.ts), as tRPC and the REST routes do: one rule, and no better-auth getSession per
 * render (it was ~1.2 ms of the staff page's CPU, issue 11). The process's own auth and database
 * (their globalThis slots, auth.ts getAuth and db.ts getDb) are the real ones over a test
 * database, with better-auth's getSession and the session row's read counted.
 */
describe.each(testDbKinds)("a page's session on %s", (kind) => {
  const authSlot = Symbol.for("floorline.auth");
  const dbSlot = Symbol.for("floorline.db");
  const slots = globalThis as unknown as Record<symbol, unknown>;
  const counts = { getSession: 0, rowReads: 0 };
  let handle: DbHandle;
  let deps: HttpDeps;
  beforeAll(async () => {
    handle = await openTestDb(kind);
    deps = await httpTestDeps(handle);
    const real = deps.auth;
    const counted = {
      ...real,
      api: {
        ...real.api,
        getSession: (...args: Parameters<Auth["api"]["getSession"]>) => {
          counts.getSession++;
          return real.api.getSession(...args);
        },
      },
      sessionByToken: (token: string) => {
        counts.rowReads++;
        return real.sessionByToken(token);
      },
    } as Auth;
    slots[authSlot] = Promise.resolve(counted);
    slots[dbSlot] = { ready: Promise.resolve(handle) };
  });
  afterAll(async () => {
    delete slots[authSlot];
    delete slots[dbSlot];
    await handle?.close();
  });

  const render = (cookie: string, path = "/player") => {
    request.headers = new Headers({ cookie, origin: APP });
    return requireRole(["player"], path);
  };

  it("renders of a signed-in page read the session once, through the cache, never better-auth's getSession", async () => {
    const cookie = await signInCookie(deps, "player30@floorline.test");
    counts.getSession = 0;
    counts.rowReads = 0;
    for (let i = 0; i < 3; i++) expect((await render(cookie)).email).toBe("player30@floorline.test");
    // The pages that ask server/auth.ts directly (/, /sign-in) share the same entry.
    expect((await getSession(new Headers({ cookie, origin: APP })))?.user.email).toBe("player30@floorline.test");
    expect(counts).toEqual({ getSession: 0, rowReads: 1 });
  });

  it("a session signed out in this process is refused by the page's next render", async () => {
    const cookie = await signInCookie(deps, "player31@floorline.test");
    expect((await render(cookie)).email).toBe("player31@floorline.test");
    await signOut(deps, cookie);
    await expect(render(cookie)).rejects.toMatchObject({
      digest: expect.stringContaining(`/sign-in?next=${encodeURIComponent("/player")}`),
    });
  });
});
