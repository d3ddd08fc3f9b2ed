import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import { openPglite } from "@/db/client";
import { migrate } from "@/db/migrate";

/**
 * Vitest's global setup: one PGlite, migrated, its data directory dumped to a file that every
 * test's openTestDb("pglite") starts from. A PGlite started empty and migrated cost 9.7–11.2 s of
 * CPU; one loaded from the dump 2.5 s (a fresh process each, load 19–20). With 40-odd files opening
 * one, that was minutes of the suite's CPU, and under load their 60 s setup hooks timed out.
 */
export const PGLITE_TEMPLATE_ENV = "FLOORLINE_TEST_PGLITE_TEMPLATE";

export default async function setup() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "floorline-pglite-"));
  const file = path.join(dir, "migrated.tar");
  const handle = openPglite();
  try {
    await migrate(handle);
    const client = (handle.db as unknown as { $client: PGlite }).$client;
    fs.writeFileSync(file, Buffer.from(await (await client.dumpDataDir("none")).arrayBuffer()));
  } finally {
    await handle.close();
  }
  // The test processes start after this and inherit it.
  process.env[PGLITE_TEMPLATE_ENV] = file;
  return () => fs.rmSync(dir, { recursive: true, force: true });
}
