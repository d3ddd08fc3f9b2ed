import { randomBytes } from "node:crypto";
import fs from "node:fs/promises";
import pg from "pg";
import { connectPostgres, type DbHandle, openPglite } from "@/db/client";
import { migrate } from "@/db/migrate";
import { PGLITE_TEMPLATE_ENV } from "./pglite-template";

export type TestDbKind = "pglite" | "postgres";

/** PGlite always; real Postgres too when TEST_DATABASE_URL is set (CI sets it). */
export const testDbKinds: TestDbKind[] = process.env.TEST_DATABASE_URL ? ["pglite", "postgres"] : ["pglite"];

/**
 * A migrated, empty database of the given kind, private to the caller. On Postgres each test
 * file gets its own database, so files can run in parallel without seeing each other's rows.
 */
export async function openTestDb(kind: TestDbKind): Promise<DbHandle> {
  if (kind === "pglite") {
    // From the migrated template when Vitest's global setup made one (pglite-template.ts); migrate
    // still runs, finds every migration applied and writes nothing.
    const template = process.env[PGLITE_TEMPLATE_ENV];
    const handle = openPglite(undefined, template ? new Blob([await fs.readFile(template)]) : undefined);
    await migrate(handle);
    return handle;
  }
  const { url, drop } = await freshPostgresDatabase();
  const handle = connectPostgres(url, 20);
  await migrate(handle);
  return {
    ...handle,
    close: async () => {
      await handle.close();
      await drop();
    },
  };
}

/** An empty database of its own on the TEST_DATABASE_URL server (for processes that migrate it themselves). */
export async function freshPostgresDatabase() {
  const baseUrl = process.env.TEST_DATABASE_URL;
  if (!baseUrl) throw new Error("TEST_DATABASE_URL is not set");
  const name = `floorline_t_${randomBytes(6).toString("hex")}`;
  await adminQuery(baseUrl, `create database ${name}`);
  const url = new URL(baseUrl);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => adminQuery(baseUrl, `drop database if exists ${name} with (force)`) };
}

async function adminQuery(url: string, sql: string) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
