import { createEnv } from "@t3-oss/env-nextjs";
import { z } from "zod";

/**
 * Every setting Floorline reads, validated once. A missing or malformed variable stops
 * start-up with a message naming it. `.env.example` documents each one with its default.
 *
 * Browser-side settings (the realtime key, host, port) are read here on the server and handed
 * to the client at request time, so one build can be pointed anywhere by env alone.
 */
const bool = z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1");
const port = z.coerce.number().int().min(0).max(65535);

export const env = createEnv({
  server: {
    NODE_ENV: z.enum(["development", "test", "production"]).default("development"),
    PORT: port.default(3000),
    APP_URL: z.url().default("http://localhost:3000"),

    DATABASE_URL: z
      .string()
      .regex(/^postgres(ql)?:\/\//, "must be a postgres:// or postgresql:// URL")
      .optional(),
    PGLITE_DATA_DIR: z.string().min(1).default(".data/pglite"),
    SEED_DEMO_DATA: bool.optional(),

    BETTER_AUTH_SECRET: z
      .string()
      .min(32, "must be at least 32 characters")
      .default("floorline-dev-secret-change-me-in-production-0123456789"),
    AUTH_SIGN_IN_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(10),

    ESCALATE_AFTER_SECONDS: z.coerce.number().int().min(1).default(60),
    ESCALATION_CHECK_SECONDS: z.coerce.number().int().min(1).default(5),

    PUSHER_APP_ID: z.string().min(1).default("floorline"),
    PUSHER_KEY: z.string().min(1).default("floorline-key"),
    PUSHER_SECRET: z.string().min(1).default("floorline-secret"),
    PUSHER_HOST: z.string().min(1).optional(),
    PUSHER_PORT: port.optional(),
    PUSHER_USE_TLS: bool.default(false),
    PUSHER_CLUSTER: z.string().min(1).optional(),
    PUSHER_PUBLIC_HOST: z.string().min(1).optional(),
    PUSHER_PUBLIC_PORT: port.optional(),
    REALTIME_HOST: z.string().min(1).default("127.0.0.1"),
    REALTIME_PORT: port.default(6001),
    // Shared state of several web instances (and realtime nodes); unset → the database.
    REDIS_URL: z
      .url()
      .regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL")
      .optional(),
    REDIS_PREFIX: z.string().min(1).default("floorline:"),
  },
  client: {},
  experimental__runtimeEnv: {},
  emptyStringAsUndefined: true,
  onValidationError: (issues) => {
    // One line per variable, naming it: what a person starting the app needs to fix.
    const lines = issues.map((i) => `  ${i.path?.map(String).join(".") ?? "?"}: ${i.message}`);
    console.error(`Invalid configuration (see .env.example):\n${lines.join("\n")}`);
    throw new Error(`Invalid configuration: ${issues.map((i) => i.path?.map(String).join(".")).join(", ")}`);
  },
  skipValidation: process.env.SKIP_ENV_VALIDATION === "1",
});

export type Env = typeof env;

/**
 * Where the web app publishes and where browsers connect:
 * PUSHER_HOST set → that server (Soketi, another of ours); PUSHER_CLUSTER alone → hosted
 * Pusher; neither → our own server from `npm run realtime` on REALTIME_HOST:REALTIME_PORT.
 */
export function realtimeEndpoints(e: Env = env) {
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

export type BrowserRealtimeConfig = ReturnType<typeof realtimeEndpoints>["browser"];
