import { z } from "zod";

/** The settings push needs, for the README and `.env.example`. */
export const ONESIGNAL_ENV_VARS: readonly { name: string; default: string; description: string }[] = [
  {
    name: "ONESIGNAL_APP_ID",
    default: "NEXT_PUBLIC_ONESIGNAL_APP_ID",
    description: "OneSignal app id (a UUID) the server sends to; set it only if it differs from the browser's",
  },
  {
    name: "NEXT_PUBLIC_ONESIGNAL_APP_ID",
    default: "unset",
    description: "OneSignal app id for the staff portal's web push; also the server's when ONESIGNAL_APP_ID is unset",
  },
  {
    name: "ONESIGNAL_REST_API_KEY",
    default: "unset",
    description: "App API key (OneSignal → Settings → Keys & IDs), server only; unset → push is off",
  },
  {
    name: "ONESIGNAL_API_BASE_URL",
    default: "https://api.onesignal.com",
    description: "OneSignal REST API base (tests point it at a local stand-in)",
  },
  {
    name: "ONESIGNAL_TIMEOUT_MS",
    default: "5000",
    description: "time limit per request attempt, 100–60000 ms; failed sends are retried 3 more times",
  },
];

export type OneSignalConfig =
  | { enabled: true; appId: string; apiKey: string; baseUrl: string; timeoutMs: number }
  | { enabled: false; reason: string; appId?: string; baseUrl: string; timeoutMs: number };

// Like env.ts (emptyStringAsUndefined): `FOO=` in a .env file means "not set", not "set to nothing".
const unsetIfBlank = (v: unknown) => (typeof v === "string" && v.trim() === "" ? undefined : v);
const appId = z.preprocess(
  unsetIfBlank,
  z.guid("must be a UUID (OneSignal → Settings → Keys & IDs → OneSignal App ID)").optional(),
);

const schema = z.object({
  ONESIGNAL_APP_ID: appId,
  NEXT_PUBLIC_ONESIGNAL_APP_ID: appId,
  ONESIGNAL_REST_API_KEY: z.preprocess(unsetIfBlank, z.string().trim().optional()),
  ONESIGNAL_API_BASE_URL: z.preprocess(
    unsetIfBlank,
    z
      .url({ protocol: /^https?$/, error: "must be an http(s) URL such as https://api.onesignal.com" })
      .default("https://api.onesignal.com"),
  ),
  ONESIGNAL_TIMEOUT_MS: z.preprocess(
    unsetIfBlank,
    z.coerce
      .number({ error: "must be a whole number of milliseconds" })
      .int("must be a whole number of milliseconds")
      .min(100, "must be at least 100 (ms)")
      .max(60_000, "must be at most 60000 (ms)")
      .default(5000),
  ),
});

/**
 * Reads push settings from `env`. Missing app id or key → `{ enabled: false, reason }` (push is
 * optional); a value that is set but malformed throws an Error naming the variable, because a
 * typo should stop start-up rather than silently turn push off.
 */
export function oneSignalConfigFromEnv(env: Record<string, string | undefined> = process.env): OneSignalConfig {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${String(issue.path[0] ?? "env")} ${issue.message}`);
    throw new Error(`Invalid OneSignal settings: ${problems.join("; ")}`);
  }
  const e = parsed.data;
  const base = { baseUrl: e.ONESIGNAL_API_BASE_URL.replace(/\/+$/, ""), timeoutMs: e.ONESIGNAL_TIMEOUT_MS };
  const id = e.ONESIGNAL_APP_ID ?? e.NEXT_PUBLIC_ONESIGNAL_APP_ID;
  const key = e.ONESIGNAL_REST_API_KEY;
  const missing = [
    id ? null : "ONESIGNAL_APP_ID (or NEXT_PUBLIC_ONESIGNAL_APP_ID)",
    key ? null : "ONESIGNAL_REST_API_KEY",
  ].filter((name): name is string => name !== null);
  if (!id || !key) {
    // The browser SDK needs only the app id: staff can opt in before the server key is set.
    return {
      enabled: false,
      reason: `${missing.join(" and ")} ${missing.length > 1 ? "are" : "is"} not set`,
      ...(id ? { appId: id } : {}),
      ...base,
    };
  }
  return { enabled: true, appId: id, apiKey: key, ...base };
}
