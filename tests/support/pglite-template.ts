import { createHash } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import type { PGlite } from "@electric-sql/pglite";
import { openPglite } from "@/db/client";
import { migrate, migrationsFolder } from "@/db/migrate";

/**
 * Vitest's global setup: one PGlite, migrated, its data directory dumped to a file that every
 * test's openTestDb("pglite") starts from. A PGlite started empty and migrated cost 9.7–11.2 s of
 * CPU; one loaded from the dump 2.5 s (a fresh process each, load 19–20). With 40-odd files opening
 * one, that was minutes of the suite's CPU, and under load their 60 s setup hooks timed out.
 * The dump is kept under node_modules/.cache, named by what it depends on (the migrations and the
 * PGlite version), so a run of one file does not pay the migration again.
 */
export const PGLITE_TEMPLATE_ENV = "FLOORLINE_TEST_PGLITE_TEMPLATE";

export default async function setup() {
  const file = templateFile();
  if (!fs.existsSync(file)) await writeTemplate(file);
  // The test processes start after this and inherit it.
  process.env[PGLITE_TEMPLATE_ENV] = file;
}

function templateFile() {
  const hash = createHash("sha256");
  const pglite = path.join(process.cwd(), "node_modules", "@electric-sql", "pglite", "package.json");
  hash.update(JSON.parse(fs.readFileSync(pglite, "utf8")).version);
  for (const name of fs.readdirSync(migrationsFolder, { recursive: true, encoding: "utf8" }).sort()) {
    const full = path.join(migrationsFolder, name);
    if (fs.statSync(full).isFile()) hash.update(name).update(fs.readFileSync(full));
  }
  const dir = path.join(process.cwd(), "node_modules", ".cache", "floorline");
  return path.join(dir, `pglite-migrated-${hash.digest("hex").slice(0, 16)}.tar`);
}

async function writeTemplate(file: string) {
  const handle = openPglite();
  try {
    await migrate(handle);
    const client = (handle.db as unknown as { $client: PGlite }).$client;
    const bytes = Buffer.from(await (await client.dumpDataDir("none")).arrayBuffer());
    // Written aside and renamed: two runs at once never read a half-written dump.
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const partial = `${file}.${process.pid}.partial`;
    fs.writeFileSync(partial, bytes);
    fs.renameSync(partial, file);
  } finally {
    await handle.close();
  }
}
