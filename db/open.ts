import { type DbHandle, openDatabase } from "./client";
import { migrate } from "./migrate";

export type DatabaseSettings = { databaseUrl?: string; pgliteDataDir: string };

/**
 * Opens the configured database and applies the migrations. Failure is one sentence naming
 * the setting to fix (DATABASE_URL or the PGlite directory), never a bare driver error.
 */
export async function openMigrated(settings: DatabaseSettings): Promise<DbHandle> {
  let handle: DbHandle | undefined;
  try {
    handle = openDatabase(settings);
    await migrate(handle);
    return handle;
  } catch (err) {
    await handle?.close().catch(() => {});
    const message = rootCause(err);
    if (settings.databaseUrl) {
      throw new Error(`Cannot use the database at DATABASE_URL (${redact(settings.databaseUrl)}): ${message}`, {
        cause: err,
      });
    }
    throw new Error(`Cannot open the embedded database in ${settings.pgliteDataDir}: ${message}`, { cause: err });
  }
}

function redact(url: string) {
  try {
    const u = new URL(url);
    if (u.password) u.password = "***";
    return u.toString();
  } catch {
    return "an unparseable URL";
  }
}

/** Drizzle wraps driver errors ("Failed query: …"); the driver's own words say what is wrong. */
function rootCause(err: unknown): string {
  let current = err;
  while (current instanceof Error && current.cause instanceof Error) current = current.cause;
  const message = current instanceof Error ? current.message : String(current);
  return message || (current instanceof Error && "code" in current ? String(current.code) : "unknown error");
}
