import { z } from "zod";
import { readSettings, setting } from "../settings";

const appId = z.guid("must be a UUID (OneSignal → Settings → Keys & IDs → OneSignal App ID)").optional();

/** The settings push needs, read like every other part's (server/settings.ts). */
export const oneSignalSettings = {
  ONESIGNAL_APP_ID: setting(
    appId,
    "OneSignal app id (a UUID) the server sends to; default: NEXT_PUBLIC_ONESIGNAL_APP_ID; set it only if it differs",
  ),
  NEXT_PUBLIC_ONESIGNAL_APP_ID: setting(
    appId,
    "OneSignal app id for the staff portal's web push; also the server's when ONESIGNAL_APP_ID is unset",
  ),
  ONESIGNAL_REST_API_KEY: setting(
    z.string().trim().optional(),
    "App API key (OneSignal → Settings → Keys & IDs), server only; unset → push is off",
  ),
  ONESIGNAL_API_BASE_URL: setting(
    z.url({ protocol: /^https?$/, error: "must be an http(s) URL such as https://api.onesignal.com" }),
    "OneSignal REST API base (tests point it at a local stand-in)",
    "https://api.onesignal.com",
  ),
  ONESIGNAL_TIMEOUT_MS: setting(
    z.coerce
      .number({ error: "must be a whole number of milliseconds" })
      .int("must be a whole number of milliseconds")
      .min(100, "must be at least 100 (ms)")
      .max(60_000, "must be at most 60000 (ms)"),
    "time limit per request attempt, 100–60000 ms; failed sends are retried 3 more times",
    "5000",
  ),
  PUSH_SHOW_PLAYER_DETAILS: setting(
    z.enum(["true", "false", "1", "0"], { error: "must be true or false" }).transform((v) => v === "true" || v === "1"),
    'put the player\'s name and message text in pushes (lock screens show them); off: "New message from a player"',
    "false",
  ),
};

/** For the README and `.env.example`. */
export const ONESIGNAL_ENV_VARS: readonly { name: string; default: string; description: string }[] = Object.entries(
  oneSignalSettings,
).map(([name, row]) => ({ name, default: row.default ?? "unset", description: row.description }));

export type OneSignalConfig =
  | { enabled: true; appId: string; apiKey: string; baseUrl: string; timeoutMs: number; showPlayerDetails: boolean }
  | {
      enabled: false;
      reason: string;
      appId?: string;
      baseUrl: string;
      timeoutMs: number;
      showPlayerDetails: boolean;
    };

let ownConfig: OneSignalConfig | undefined;

/**
 * This process's push settings, read from process.env once: they never change while it runs, and
 * the staff page and every response's headers ask for them (parsing them cost the staff page ~0.7
 * ms per render with realtimeEndpoints, issue 11). A malformed value throws at the first ask, as
 * oneSignalConfigFromEnv does.
 */
export function oneSignalConfig(): OneSignalConfig {
  ownConfig ??= oneSignalConfigFromEnv(process.env);
  return ownConfig;
}

/**
 * Reads push settings from `env`. Missing app id or key → `{ enabled: false, reason }` (push is
 * optional); a value that is set but malformed throws an Error naming the variable, because a
 * typo should stop start-up rather than silently turn push off.
 */
export function oneSignalConfigFromEnv(env: Record<string, string | undefined> = process.env): OneSignalConfig {
  const e = readSettings(oneSignalSettings, env);
  const base = {
    baseUrl: e.ONESIGNAL_API_BASE_URL.replace(/\/+$/, ""),
    timeoutMs: e.ONESIGNAL_TIMEOUT_MS,
    showPlayerDetails: e.PUSH_SHOW_PLAYER_DETAILS,
  };
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
