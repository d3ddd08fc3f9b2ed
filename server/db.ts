import type { DbHandle } from "@/db/client";
import { openMigrated } from "@/db/open";
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
  const handle = await openMigrated({ databaseUrl: env.DATABASE_URL, pgliteDataDir: env.PGLITE_DATA_DIR });
  // The embedded database is the newcomer's: give it demo accounts unless told otherwise.
  const seed = env.SEED_DEMO_DATA ?? handle.kind === "pglite";
  if (seed) {
    await seedDemoData(handle.db);
    if (handle.kind === "pglite" || env.NODE_ENV !== "production") printDemoLogins();
  }
  return handle;
}

function printDemoLogins() {
  console.log(`\nFloorline demo log-ins (password for all: ${DEMO_PASSWORD}):`);
  for (const a of demoAccounts) console.log(`  ${a.role.padEnd(6)} ${a.email.padEnd(26)} ${a.name}`);
  console.log("");
}
