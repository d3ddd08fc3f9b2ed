import { env } from "@/env";
import { openDatabase } from "./client";
import { migrate } from "./migrate";
import { DEMO_PASSWORD, demoAccounts, seedDemoData } from "./seed";

// `npm run db:seed` and `npm run db:migrate`: the same steps the app takes at start-up.
const onlyMigrate = process.argv.includes("--migrate-only");
const handle = openDatabase({ databaseUrl: env.DATABASE_URL, pgliteDataDir: env.PGLITE_DATA_DIR });
try {
  await migrate(handle);
  console.log(`Migrations applied (${handle.kind}).`);
  if (!onlyMigrate) {
    const created = await seedDemoData(handle.db);
    console.log(`Demo data: ${created} account(s) created. Password for all: ${DEMO_PASSWORD}`);
    for (const a of demoAccounts) console.log(`  ${a.role.padEnd(6)} ${a.email}`);
  }
} catch (err) {
  console.error(err instanceof Error ? err.message : err);
  process.exitCode = 1;
} finally {
  await handle.close();
}
