import { type DbHandle, openDatabase } from "@/db/client";
import { migrate } from "@/db/migrate";
import { DEMO_PASSWORD, demoAccounts, seedDemoData } from "@/db/seed";
import { env } from "@/env";

/**
 * The process-wide database. Next bundles server modules more than once, so the handle lives
 * on globalThis: PGlite allows one instance per data directory, and a Pool per bundle would
 * multiply connections.
 */
const globalKey = Symbol.for("floorline.db");
type Slot = { ready: Promise<DbHandle> };
const globalSlot = globalThis as unknown as Record<symbol, Slot | undefined>;

export function getDb(): Promise<DbHandle> {
  let slot = globalSlot[globalKey];
  if (!slot) {
    slot = { ready: openAndPrepare() };
    globalSlot[globalKey] = slot;
  }
  return slot.ready;
}

async function openAndPrepare(): Promise<DbHandle> {
  const handle = openDatabase({ databaseUrl: env.DATABASE_URL, pgliteDataDir: env.PGLITE_DATA_DIR });
  try {
    await migrate(handle);
  } catch (err) {
    await handle.close().catch(() => {});
    throw describeConnectError(err);
  }
  // The embedded database is the newcomer's: give it demo accounts unless told otherwise.
  const seed = env.SEED_DEMO_DATA ?? handle.kind === "pglite";
  if (seed) {
    await seedDemoData(handle.db);
    if (handle.kind === "pglite" || env.NODE_ENV !== "production") printDemoLogins();
  }
  return handle;
}

function describeConnectError(err: unknown): Error {
  const message = err instanceof Error ? err.message : String(err);
  if (env.DATABASE_URL) {
    const where = safeUrl(env.DATABASE_URL);
    return new Error(`Cannot use the database at DATABASE_URL (${where}): ${message}`, { cause: err });
  }
  return new Error(`Cannot open the embedded database in ${env.PGLITE_DATA_DIR}: ${message}`, { cause: err });
}

function safeUrl(url: string) {
  try {
    const u = new URL(url);
    u.password = u.password ? "***" : "";
    return u.toString();
  } catch {
    return "unparseable URL";
  }
}

function printDemoLogins() {
  console.log(`\nFloorline demo log-ins (password for all: ${DEMO_PASSWORD}):`);
  for (const a of demoAccounts) console.log(`  ${a.role.padEnd(6)} ${a.email.padEnd(26)} ${a.name}`);
  console.log("");
}
