import { betterAuth } from "better-auth";
import { drizzleAdapter } from "better-auth/adapters/drizzle";
import { nextCookies } from "better-auth/next-js";
import type { Db } from "@/db/client";
import * as schema from "@/db/schema";
import { env } from "@/env";
import { getDb } from "./db";
import { sharedAuthStorage } from "./shared-state";

export function createAuth(db: Db, shared = sharedAuthStorage({ url: env.REDIS_URL, prefix: env.REDIS_PREFIX })) {
  return betterAuth({
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
      },
    },
    secondaryStorage: shared.secondaryStorage,
    session: { cookieCache: { enabled: true, maxAge: 60 }, storeSessionInDatabase: shared.storeSessionInDatabase },
    rateLimit: {
      enabled: true,
      storage: shared.rateLimitStorage,
      customRules: { "/sign-in/email": { window: 60, max: env.AUTH_SIGN_IN_LIMIT_PER_MINUTE } },
    },
    advanced: { defaultCookieAttributes: { httpOnly: true, sameSite: "lax" } },
    plugins: [nextCookies()],
  });
}

export type Auth = ReturnType<typeof createAuth>;
export type SessionUser = Auth["$Infer"]["Session"]["user"];

const globalKey = Symbol.for("floorline.auth");
const slot = globalThis as unknown as Record<symbol, Promise<Auth> | undefined>;

/** One auth instance per process, over the shared database. */
export function getAuth(): Promise<Auth> {
  slot[globalKey] ??= getDb().then((handle) => createAuth(handle.db));
  return slot[globalKey];
}

export async function getSession(headers: Headers) {
  const auth = await getAuth();
  return auth.api.getSession({ headers });
}
