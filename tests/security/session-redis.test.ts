import { Redis } from "ioredis";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import type { DbHandle } from "@/db/client";
import { type Auth, createAuth } from "@/server/auth";
import type { HttpDeps } from "@/server/http/deps";
import { cachedSession, SESSION_CACHE_MS } from "@/server/session-cache";
import { sharedAuthStorage } from "@/server/shared-state";
import { openTestDb, testDbKinds } from "../support/db";
import { APP, httpTestDeps, signInCookie } from "../support/http";
import { dropRedisPrefix, TEST_REDIS_URL, testRedisPrefix } from "../support/redis";

/**
 * Sessions kept in Redis (better-auth's secondary storage, REDIS_URL set), on the real Redis under
 * a key prefix of this file's: a cookie not held in the session cache is read without better-auth's
 * getSession (its signature as better-call checks it, then better-auth's own record in Redis), and
 * every answer is compared with getSession's for the same cookie, in the states better-auth can leave
 * a session in: live, signed out, revoked with a stale copy left in Redis, missing from Redis but in
 * the database, expired, due for extension, a changed user, a record that is not JSON. A record that
 * is JSON but not a session (a field of the wrong type, a date that is not one) is refused and
 * logged without its token, where better-auth would hand it on as it is.
 */
describe.each(testDbKinds)("sessions in Redis on %s: the first read against better-auth's getSession", (kind) => {
  const prefix = testRedisPrefix();
  const redis = new Redis(TEST_REDIS_URL);
  let handle: DbHandle;
  let deps: HttpDeps;
  let auth: Auth;
  beforeAll(async () => {
    handle = await openTestDb(kind);
    deps = await httpTestDeps(handle);
    auth = createAuth(handle.db, {
      shared: sharedAuthStorage({ url: TEST_REDIS_URL, prefix, database: kind }),
      signInLimitPerMinute: 1000,
    });
  });
  afterAll(async () => {
    await dropRedisPrefix(prefix);
    redis.disconnect();
    await handle?.close();
  });

  const headers = (cookie: string) => new Headers({ cookie: `theme=dark; ${cookie}`, origin: APP });
  /** The session's record as better-auth keeps it in Redis (shared-state.ts: `<prefix>auth:<token>`). */
  const recordKey = (cookie: string) =>
    `${prefix}auth:${decodeURIComponent(/better-auth\.session_token=([^;]+)/.exec(cookie)?.[1] ?? "").split(".")[0]}`;
  const record = async (cookie: string) => JSON.parse((await redis.get(recordKey(cookie))) ?? "null");
  const signIn = (email = "player31@floorline.test") => signInCookie({ ...deps, auth }, email);

  // Each read is a first one: a clock past every window this file has opened (the cache is the process's).
  let clock = Date.now();
  /** The session cache's first read of `cookie`, and how many getSession calls it made. */
  async function firstRead(cookie: string) {
    let lookups = 0;
    const counted = {
      ...auth,
      api: {
        getSession: (...args: Parameters<Auth["api"]["getSession"]>) => {
          lookups++;
          return auth.api.getSession(...args);
        },
      },
    } as unknown as Auth;
    clock = Math.max(clock + SESSION_CACHE_MS + 1, Date.now());
    const session = await cachedSession(counted, headers(cookie), clock);
    return { session, lookups };
  }
  const betterAuths = (cookie: string) => auth.api.getSession({ headers: headers(cookie) });

  it("a live session: better-auth's answer from its Redis record, no getSession", async () => {
    const cookie = await signIn();
    const ours = await firstRead(cookie);
    expect(ours.session?.user.email).toBe("player31@floorline.test");
    expect(ours.session).toEqual(await betterAuths(cookie));
    expect(ours.lookups).toBe(0);
  });

  it("signed out through better-auth: refused", async () => {
    const cookie = await signIn();
    await auth.api.signOut({ headers: headers(cookie) });
    expect(await betterAuths(cookie)).toBeNull();
    expect((await firstRead(cookie)).session).toBeNull();
  });

  it("revoked (all the user's sessions) with a stale copy of the record put back: refused as better-auth refuses it", async () => {
    const cookie = await signIn("player30@floorline.test");
    const stale = await redis.get(recordKey(cookie));
    if (!stale) throw new Error("no record in Redis");
    await auth.api.revokeSessions({ headers: headers(cookie) });
    // A record better-auth deleted, written back (a race with another instance's write, say):
    // only its revoked-before mark refuses it.
    await redis.set(recordKey(cookie), stale);
    expect(await betterAuths(cookie)).toBeNull();
    expect((await firstRead(cookie)).session).toBeNull();
  });

  it("missing from Redis but in the database: read from the database, as better-auth falls back", async () => {
    const cookie = await signIn();
    await redis.del(recordKey(cookie));
    const ours = await firstRead(cookie);
    expect(ours.session?.user.email).toBe("player31@floorline.test");
    expect(ours.session).toEqual(await betterAuths(cookie));
    expect(ours.lookups).toBe(0);
  });

  it("expired by its record: refused, and better-auth deletes it", async () => {
    const cookie = await signIn();
    const held = await record(cookie);
    held.session.expiresAt = new Date(Date.now() - 1000).toISOString();
    await redis.set(recordKey(cookie), JSON.stringify(held));
    expect((await firstRead(cookie)).session).toBeNull();
    expect(await redis.get(recordKey(cookie))).toBeNull();
    expect(await betterAuths(cookie)).toBeNull();
  });

  it("due for better-auth's daily extension: extended by getSession", async () => {
    const cookie = await signIn();
    const { expiresIn, updateAge } = (await auth.$context).sessionConfig;
    const due = new Date(Date.now() + (expiresIn - updateAge - 60) * 1000);
    const held = await record(cookie);
    held.session.expiresAt = due.toISOString();
    await redis.set(recordKey(cookie), JSON.stringify(held));
    const ours = await firstRead(cookie);
    expect(ours.lookups).toBe(1);
    expect(ours.session?.session.expiresAt.getTime()).toBeGreaterThan(due.getTime());
    expect(ours.session).toEqual(await betterAuths(cookie));
  });

  it("a user changed in its Redis record: the record's user, as better-auth answers", async () => {
    const cookie = await signIn();
    const held = await record(cookie);
    held.user.name = "Renamed in Redis";
    held.user.role = "staff";
    await redis.set(recordKey(cookie), JSON.stringify(held));
    const ours = await firstRead(cookie);
    expect(ours.session).toMatchObject({ user: { name: "Renamed in Redis", role: "staff" } });
    expect(ours.session).toEqual(await betterAuths(cookie));
  });

  afterEach(() => {
    vi.restoreAllMocks();
  });
  /** The token in `cookie` (the part before the signature). */
  const tokenOf = (cookie: string) =>
    decodeURIComponent(/better-auth\.session_token=([^;]+)/.exec(cookie)?.[1] ?? "").split(".")[0] ?? "";
  /** A first read of `cookie` whose record was changed by `change`; what it answered and logged. */
  async function readChanged(
    cookie: string,
    change: (held: { session: Record<string, unknown>; user: Record<string, unknown> }) => void,
  ) {
    const held = await record(cookie);
    change(held);
    await redis.set(recordKey(cookie), JSON.stringify(held));
    const logged: string[] = [];
    vi.spyOn(console, "error").mockImplementation((...args: unknown[]) => {
      logged.push(args.map(String).join(" "));
    });
    const ours = await firstRead(cookie);
    vi.restoreAllMocks();
    return { ...ours, logged };
  }

  it.each([
    { what: "a field of the wrong type", part: "user", field: "role", value: 42 },
    { what: "a date that is not a date", part: "session", field: "expiresAt", value: "not a date" },
  ] as const)(
    "a record with $what: refused as no session, logged without its token",
    async ({ part, field, value }) => {
      const cookie = await signIn();
      const ours = await readChanged(cookie, (held) => {
        held[part][field] = value;
      });
      expect(ours.session).toBeNull();
      expect(ours.logged).toHaveLength(1);
      expect(ours.logged[0]).toContain(`session record`);
      expect(ours.logged[0]).toContain(`${part}.${field}`);
      expect(ours.logged[0]).not.toContain(tokenOf(cookie));
    },
  );

  it("a live session's answer has Date dates, as the database's has", async () => {
    const cookie = await signIn();
    const { session } = await firstRead(cookie);
    for (const date of [
      session?.session.expiresAt,
      session?.session.createdAt,
      session?.session.updatedAt,
      session?.user.createdAt,
      session?.user.updatedAt,
    ])
      expect(date).toBeInstanceOf(Date);
  });

  it("a record that is not JSON: refused, as better-auth refuses it", async () => {
    const cookie = await signIn();
    await redis.set(recordKey(cookie), "{not json");
    expect(await betterAuths(cookie)).toBeNull();
    expect((await firstRead(cookie)).session).toBeNull();
  });
});
