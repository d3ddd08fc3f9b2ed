import { z } from "zod";

/**
 * How every Floorline process reads its settings: one table per part (web app, realtime server,
 * push), each row a schema, a default written as it would be in `.env`, and what it means. A
 * process loads only its part; all parts are read the same way and report problems the same way.
 */
export type Setting<S extends z.ZodType = z.ZodType> = { schema: S; default?: string; description: string };
export type SettingsTable = Record<string, Setting>;
export type SettingsOf<T extends SettingsTable> = { [K in keyof T]: z.output<T[K]["schema"]> };

export const setting = <S extends z.ZodType>(schema: S, description: string, defaultValue?: string): Setting<S> => ({
  schema,
  description,
  ...(defaultValue !== undefined ? { default: defaultValue } : {}),
});

/** Every problem, one line per variable naming it ("PORT: expected a number"). */
export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration (see .env.example):\n${problems.map((p) => `  ${p}`).join("\n")}`);
    this.name = "SettingsError";
  }
}

/**
 * Reads a table from `env`. `FOO=` (blank) means unset, as in a `.env` file; unset means the
 * row's default. Throws a SettingsError listing every bad variable, not just the first.
 */
export function readSettings<T extends SettingsTable>(
  table: T,
  env: Record<string, string | undefined> = process.env,
): SettingsOf<T> {
  const values: Record<string, unknown> = {};
  const problems: string[] = [];
  for (const [name, row] of Object.entries(table)) {
    const raw = env[name];
    const given = raw === undefined || raw.trim() === "" ? row.default : raw;
    const parsed = row.schema.safeParse(given);
    if (parsed.success) values[name] = parsed.data;
    else problems.push(`${name}: ${parsed.error.issues.map((i) => i.message).join("; ")}`);
  }
  if (problems.length > 0) throw new SettingsError(problems);
  return values as SettingsOf<T>;
}

export const port = z.coerce.number({ error: "must be a port number" }).int().min(0).max(65535);
export const flag = z
  .enum(["true", "false", "1", "0"], { error: "must be true or false" })
  .transform((v) => v === "true" || v === "1");

/** The realtime app's credentials and our server's address: the web app and the realtime server share them. */
export const realtimeShared = {
  PUSHER_APP_ID: setting(z.string().min(1), "app id the HTTP API answers to", "floorline"),
  PUSHER_KEY: setting(z.string().min(1), "app key clients connect with", "floorline-key"),
  PUSHER_SECRET: setting(
    z.string().min(1),
    "signing secret, never sent to browsers; with DATABASE_URL set: required, ≥ 20 characters, not the default",
    "floorline-secret",
  ),
  REALTIME_HOST: setting(z.string().min(1), "address our realtime server listens on", "127.0.0.1"),
  REALTIME_PORT: setting(port, "port our realtime server listens on (0 = any free port)", "6001"),
} as const;
