import { z } from "zod";
import { proxyList } from "./server/http/client-ip";
import { DEFAULT_AUTH_SECRET, deploymentSecretProblems } from "./server/secrets";
import { flag, port, readSettings, realtimeShared, SettingsError, setting } from "./server/settings";

/**
 * The web app's settings, validated once at start-up (server/settings.ts reads every process's
 * table the same way). A missing or malformed variable stops start-up with a line naming it.
 * `.env.example` and the README list each one with its default.
 *
 * Browser-side settings (the realtime key, host, port) are read here on the server and handed
 * to the client at request time, so one build can be pointed anywhere by env alone.
 */
export const webSettings = {
  NODE_ENV: setting(z.enum(["development", "test", "production"]), "set by npm start / npm run dev", "development"),
  PORT: setting(port, "web app port", "3000"),
  APP_URL: setting(z.url(), "public URL (auth, push deep links)", "http://localhost:3000"),

  DATABASE_URL: setting(
    z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
      .optional(),
    "Postgres URL; unset → embedded PGlite",
  ),
  PGLITE_DATA_DIR: setting(z.string().min(1), "embedded database directory (one process at a time)", ".data/pglite"),
  SEED_DEMO_DATA: setting(flag.optional(), "create the demo accounts at start-up (default: true on PGlite)"),

  BETTER_AUTH_SECRET: setting(
    z.string().min(32, "must be at least 32 characters"),
    "session signing secret; with DATABASE_URL set: required, ≥ 32 characters, not the default",
    DEFAULT_AUTH_SECRET,
  ),
  AUTH_SIGN_IN_LIMIT_PER_MINUTE: setting(
    z.coerce.number().int().min(1),
    "sign-in attempts per client IP per minute",
    "10",
  ),
  TRUSTED_PROXIES: setting(
    proxyList,
    "addresses or CIDR ranges of proxies whose X-Forwarded-For is believed; unset → the socket address counts",
    "",
  ),
  PLAYER_SEND_BURST: setting(z.coerce.number().int().min(1), "messages a player may send at once", "10"),
  PLAYER_SEND_PER_SECOND: setting(z.coerce.number().min(0), "then this many per second; 0 = no limit", "1"),

  ESCALATE_AFTER_SECONDS: setting(
    z.coerce.number().int().min(1),
    "a request still waiting this long alerts staff again",
    "60",
  ),
  ESCALATION_CHECK_SECONDS: setting(z.coerce.number().int().min(1), "how often waiting requests are checked", "5"),
  AUTO_ASSIGN_CHATS: setting(
    flag,
    "give the longest-waiting chat to the accepting staff member with the fewest open chats",
    "true",
  ),

  ...realtimeShared,
  PUSHER_HOST: setting(z.string().min(1).optional(), "use another Pusher-protocol server; ours is then not started"),
  PUSHER_PORT: setting(port.optional(), "with PUSHER_HOST; default 443 with TLS, 80 without"),
  PUSHER_USE_TLS: setting(flag, "connect to PUSHER_HOST over TLS", "false"),
  PUSHER_CLUSTER: setting(z.string().min(1).optional(), "hosted Pusher cluster (e.g. ap2) when PUSHER_HOST is unset"),
  PUSHER_PUBLIC_HOST: setting(z.string().min(1).optional(), "host browsers connect to; default: the page's host"),
  PUSHER_PUBLIC_PORT: setting(port.optional(), "port browsers connect to; default: the server port"),

  REDIS_URL: setting(
    z
      .url()
      .regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL")
      .optional(),
    "Redis shared by web instances (sessions, sign-in limiter); unset → the database",
  ),
  REDIS_PREFIX: setting(z.string().min(1), "prefix of every Floorline key in that Redis", "floorline:"),
} as const;

/** The web settings from `source`; a deployment's secrets are checked too (not while building). */
export function loadWebSettings(source: Record<string, string | undefined> = process.env) {
  const settings = readSettings(webSettings, source);
  const building = source.NEXT_PHASE === "phase-production-build";
  const problems = building ? [] : deploymentSecretProblems(source);
  if (problems.length > 0) throw new SettingsError(problems);
  return settings;
}

export const env = (() => {
  try {
    return loadWebSettings();
  } catch (err) {
    // One line per variable, naming it: what a person starting the app needs to fix.
    if (err instanceof SettingsError) console.error(err.message);
    throw err;
  }
})();

export type Env = typeof env;

let ownEndpoints: ReturnType<typeof endpointsOf> | undefined;

/**
 * Where the web app publishes and where browsers connect:
 * PUSHER_HOST set → that server (Soketi, another of ours); PUSHER_CLUSTER alone → hosted
 * Pusher; neither → our own server from `npm run realtime` on REALTIME_HOST:REALTIME_PORT.
 */
export function realtimeEndpoints(e: Env = env) {
  // This process's own settings never change while it runs: worked out once (pages ask on every
  // render, issue 11). Another set (tests, scripts) is worked out as asked.
  if (e !== env) return endpointsOf(e);
  ownEndpoints ??= endpointsOf(env);
  return ownEndpoints;
}

function endpointsOf(e: Env) {
  const mode = e.PUSHER_HOST ? "host" : e.PUSHER_CLUSTER ? "cluster" : "ours";
  const host = e.PUSHER_HOST ?? e.REALTIME_HOST;
  const port = e.PUSHER_PORT ?? (mode === "host" ? (e.PUSHER_USE_TLS ? 443 : 80) : e.REALTIME_PORT);
  const useTLS = mode === "cluster" || e.PUSHER_USE_TLS;
  return {
    mode,
    /** For the `pusher` SDK. */
    server: mode === "cluster" ? { cluster: e.PUSHER_CLUSTER as string, useTLS } : { host, port, useTLS },
    /** For `pusher-js` in the browser; never carries the secret. */
    browser: {
      key: e.PUSHER_KEY,
      // pusher-js 8 requires a cluster even when wsHost overrides where it connects.
      cluster: e.PUSHER_CLUSTER ?? "mt1",
      // null = the host the page was loaded from, so a phone on the club's Wi-Fi reaches it too.
      wsHost: mode === "cluster" ? undefined : (e.PUSHER_PUBLIC_HOST ?? (mode === "host" ? host : null)),
      wsPort: mode === "cluster" ? undefined : (e.PUSHER_PUBLIC_PORT ?? port),
      forceTLS: useTLS,
    },
  };
}

export type BrowserRealtimeConfig = ReturnType<typeof endpointsOf>["browser"];
