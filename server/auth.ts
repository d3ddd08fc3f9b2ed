import { betterAuth } from "better-auth";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import { APIError } from "better-auth/api";
import { nextCookies } from "better-auth/next-js";
import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import * as schema from "@/db/schema";
import { env } from "@/env";
import { getDb } from "./db";
import { getPublisher } from "./publisher";
import { endRealtimeSession } from "./revocation";
import { cachedSession, forgetSession } from "./session-cache";
import { sessionByToken, sessionFromRecord } from "./session-row";
import { type SharedAuthStorage, sharedAuthStorage } from "./shared-state";

export type AuthOptions = {
  /** A session ended (sign-out, expiry clean-up, deactivation): its live connections must end too. */
  onSessionEnded?: (session: { id: string; userId: string }) => Promise<void>;
  /** Default AUTH_SIGN_IN_LIMIT_PER_MINUTE; tests that sign in often raise it. */
  signInLimitPerMinute?: number;
  /** Where the sign-in limiter (and with Redis, sessions) live; default from REDIS_URL. */
  shared?: SharedAuthStorage;
};

export function createAuth(db: Db, options: AuthOptions = {}) {
  const shared =
    options.shared ??
    sharedAuthStorage({
      url: env.REDIS_URL,
      prefix: env.REDIS_PREFIX,
      database: env.DATABASE_URL ? "postgres" : "pglite",
    });
  const auth = betterAuth({
    appName: "Floorline",
    baseURL: env.APP_URL,
    secret: env.BETTER_AUTH_SECRET,
    // The page origin may differ from APP_URL (another port or host on the club network).
    trustedOrigins: (request) => (request ? [new URL(request.url).origin] : []),
    database: drizzleAdapter(db, {
      provider: "pg",
      schema: {
        user: schema.user,
        session: schema.session,
        account: schema.account,
        verification: schema.verification,
        rateLimit: schema.rateLimit,
      },
    }),
    // The club creates accounts; nobody signs themselves up as staff.
    emailAndPassword: { enabled: true, disableSignUp: true },
    user: {
      additionalFields: {
        role: { type: ["player", "staff", "admin"], required: false, defaultValue: "player", input: false },
        mustChangePassword: { type: "boolean", required: false, defaultValue: false, input: false },
      },
    },
    // No cookie cache: every request checks the session row, so sign-out and deactivation end
    // access at once (a cached session cookie stays valid for its whole window, copied or not).
    // What that costs per request is measured in the README (Security). Pages, tRPC and the REST
    // routes remember a checked session for at most 5 s (session-cache.ts), forgotten at once on
    // sign-out.
    session: { cookieCache: { enabled: false }, storeSessionInDatabase: shared.storeSessionInDatabase },
    // Several web instances share what they must (server/shared-state.ts): with REDIS_URL the
    // sessions are read from Redis (and kept in Postgres), and the sign-in limiter counts there.
    ...(shared.secondaryStorage ? { secondaryStorage: shared.secondaryStorage } : {}),
    databaseHooks: {
      session: {
        create: {
          before: async (session) => {
            const [row] = await db
              .select({ deactivatedAt: schema.user.deactivatedAt })
              .from(schema.user)
              .where(eq(schema.user.id, session.userId));
            if (row?.deactivatedAt) throw new APIError("FORBIDDEN", { message: "This account is deactivated" });
          },
        },
        delete: {
          after: async (session) => {
            forgetSession(session.id);
            await options.onSessionEnded?.({ id: session.id, userId: session.userId });
          },
        },
      },
    },
    rateLimit: {
      enabled: true,
      storage: shared.rateLimitStorage,
      customRules: {
        "/sign-in/email": { window: 60, max: options.signInLimitPerMinute ?? env.AUTH_SIGN_IN_LIMIT_PER_MINUTE },
      },
    },
    advanced: { defaultCookieAttributes: { httpOnly: true, sameSite: "lax" } },
    plugins: [nextCookies()],
  });
  // How session-cache.ts reads a session by its token (a cookie's whose signature it checked, or
  // a held entry's) instead of a whole getSession (issue 11): where better-auth's findSession
  // would read it. In the database: one prepared read of the row and its user. With sessions in
  // Redis: better-auth's own findSession — the Redis record, refused if the user's sessions were
  // revoked after it was made, the database row when Redis has none — which is what getSession
  // reads before its expiry and extension checks (session-cache.ts makes those as it does). Redis
  // holds JSON, which better-auth turns into a session without checking it: parsed here into the
  // database row's shape (session-row.ts sessionFromRecord), a record that is not one refused.
  const sessionOf = shared.secondaryStorage
    ? async (token: string) => sessionFromRecord(await (await auth.$context).internalAdapter.findSession(token))
    : (token: string) => sessionByToken(db, token);
  return Object.assign(auth, { sessionByToken: sessionOf });
}

export type Auth = ReturnType<typeof createAuth>;
export type SessionUser = Auth["$Infer"]["Session"]["user"];

const globalKey = Symbol.for("floorline.auth");
const slot = globalThis as unknown as Record<symbol, Promise<Auth> | undefined>;

/** One auth instance per process, over the shared database. */
export function getAuth(): Promise<Auth> {
  slot[globalKey] ??= getDb().then((handle) =>
    createAuth(handle.db, { onSessionEnded: (session) => endRealtimeSession(getPublisher(), session.id) }),
  );
  return slot[globalKey];
}

/**
 * The session of a page's request: the same check as tRPC and the REST routes (session-cache.ts),
 * so one rule decides who a request is. Pages used to ask better-auth's getSession on every render
 * (~1.2 ms of the staff page's CPU, issue 11). Issue 12 allows what the cache does for pages as for
 * the API: a session ended through this process (sign-out, deactivation) is refused by the next
 * render, one ended by another web process within SESSION_CACHE_MS, and a page was never a wider
 * door than the API it loads its data from (a page's prefetches ask the cache already). What must be
 * current to the row is read from the database by the page itself (guards.ts: mustChangePassword).
 */
export async function getSession(headers: Headers) {
  return cachedSession(await getAuth(), headers);
}
