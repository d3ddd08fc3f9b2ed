import path from "node:path";
import { migrate as migratePg } from "drizzle-orm/node-postgres/migrator";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import type { DbHandle } from "./client";

export const migrationsFolder = path.join(process.cwd(), "db", "migrations");

export async function migrate(handle: DbHandle, folder = migrationsFolder) {
  // Both migrators run the same SQL files; they differ only in the driver they accept.
  // biome-ignore lint/suspicious/noExplicitAny: the two drizzle database classes share this API
  const db = handle.db as any;
  if (handle.kind === "pglite") await migratePglite(db, { migrationsFolder: folder });
  else await migratePg(db, { migrationsFolder: folder });
}
