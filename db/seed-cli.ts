import { env } from "@/env";
import type { DbHandle } from "./client";
import { openMigrated } from "./open";
import { DEMO_PASSWORD, demoAccounts, seedDemoData } from "./seed";

// `npm run db:migrate` and `npm run db:seed`: the same steps the app takes at start-up.
const onlyMigrate = process.argv.includes("--migrate-only");
let handle: DbHandle | undefined;
try {
  handle = await openMigrated({ databaseUrl: env.DATABASE_URL, pgliteDataDir: env.PGLITE_DATA_DIR });
  console.log(`Migrations applied (${handle.kind}).`);
  if (!onlyMigrate) {
    const created = await seedDemoData(handle.db);
    console.log(`Demo data: ${created} account(s) created. Password for all: ${DEMO_PASSWORD}`);
    for (const a of demoAccounts) console.log(`  ${a.role.padEnd(6)} ${a.email}`);
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : String(err));
  process.exitCode = 1;
} finally {
  await handle?.close();
}
