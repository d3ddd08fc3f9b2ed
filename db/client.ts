import fs from "node:fs";
import path from "node:path";
import { PGlite } from "@electric-sql/pglite";
import type { SQL } from "drizzle-orm";
import { drizzle as drizzlePg } from "drizzle-orm/node-postgres";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { Pool } from "pg";
import * as schema from "./schema";

export type Schema = typeof schema;
/** Either driver: domain code is written against the common Postgres dialect. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
export type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

/** Rows of a raw `sql` statement: node-postgres and PGlite both answer `{ rows }`. */
export async function rowsOf<T>(db: Db | Tx, query: SQL): Promise<T[]> {
  return ((await db.execute(query)) as unknown as { rows: T[] }).rows;
}

export type DbHandle = {
  db: Db;
  kind: "postgres" | "pglite";
  close: () => Promise<void>;
};

/** Connections the web process's pool holds at most (the warm-up opens them all at start). */
export const POOL_MAX = 10;

export function connectPostgres(url: string, max = POOL_MAX): DbHandle {
  // Idle connections stay: node-postgres closed one idle for 10 s, and with it what the warm-up
  // opened and prepared on it (server/http/warm-up.ts), so the first burst after a quiet spell
  // connected and parsed again. allowExitOnIdle: a script that never closes its pool still exits.
  const pool = new Pool({ connectionString: url, max, idleTimeoutMillis: 0, allowExitOnIdle: true });
  // An idle client that errors (server restart) must not crash the process.
  pool.on("error", (err) => console.error(`[db] idle Postgres client error: ${err.message}`));
  const db = drizzlePg(pool, { schema }) as unknown as Db;
  return { db, kind: "postgres", close: () => pool.end() };
}

/**
 * `dataDir` undefined → in memory (tests). `loadDataDir`: start from a dumped data directory
 * (PGlite's dumpDataDir) instead of an empty one.
 */
export function openPglite(dataDir?: string, loadDataDir?: Blob): DbHandle {
  let releaseLock = () => {};
  if (dataDir) {
    fs.mkdirSync(dataDir, { recursive: true });
    releaseLock = lockDataDir(dataDir);
  }
  const client = new PGlite({ dataDir, loadDataDir });
  const db = drizzlePglite(client, { schema }) as unknown as Db;
  return {
    db,
    kind: "pglite",
    close: async () => {
      await client.close();
      releaseLock();
    },
  };
}

/**
 * PGlite is one Postgres backend inside this process: a second process opening the same
 * directory would corrupt it. A pid file makes that a clear error instead.
 */
function lockDataDir(dataDir: string): () => void {
  const lockFile = path.join(path.dirname(path.resolve(dataDir)), `${path.basename(dataDir)}.lock`);
  try {
    fs.writeFileSync(lockFile, String(process.pid), { flag: "wx" });
  } catch {
    const holder = Number(fs.readFileSync(lockFile, "utf8"));
    if (holder && holder !== process.pid && isAlive(holder)) {
      throw new Error(
        `The embedded database in ${dataDir} is in use by another process (pid ${holder}). ` +
          "Stop it, or set DATABASE_URL / PGLITE_DATA_DIR to use another database.",
      );
    }
    fs.writeFileSync(lockFile, String(process.pid)); // stale lock from a crashed process
  }
  const release = () => {
    try {
      if (fs.readFileSync(lockFile, "utf8") === String(process.pid)) fs.unlinkSync(lockFile);
    } catch {}
  };
  process.once("exit", release);
  return release;
}

function isAlive(pid: number) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

export function openDatabase(opts: { databaseUrl?: string; pgliteDataDir: string }): DbHandle {
  return opts.databaseUrl ? connectPostgres(opts.databaseUrl) : openPglite(opts.pgliteDataDir);
}
