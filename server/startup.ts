import { getDb } from "./db";

/** Opens and migrates the database before the first request; cannot → one clear line, exit 1. */
export async function prepareAtStartup() {
  try {
    await getDb();
  } catch (err) {
    console.error(`[floorline] ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  }
}
