import { sql } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { seedHistory } from "@/bench/path";
import { connectPostgres, type DbHandle, rowsOf } from "@/db/client";
import { migrate } from "@/db/migrate";
import { PrivatePostgres } from "../support/stack";

/**
 * The history scenario reads what seedHistory wrote in one bulk INSERT … SELECT; a live club's
 * rows arrived over months, vacuumed and checkpointed as they came. The seed has to leave the
 * database in that state, or the bench measures autovacuum and a checkpoint of the seed itself.
 * A private cluster: CHECKPOINT is cluster-wide, and the shared server is nobody's to checkpoint.
 */
let postgres: PrivatePostgres;
let handle: DbHandle;

beforeAll(async () => {
  postgres = new PrivatePostgres(Number(process.env.E2E_BENCH_PORT_BASE ?? 6271) + 5);
  postgres.start();
  handle = connectPostgres(postgres.url, 2);
  await migrate(handle);
}, 60_000);

afterAll(async () => {
  await handle?.close();
  postgres?.destroy();
});

describe("seedHistory", () => {
  it("ends with the seeded rows vacuumed, analyzed and checkpointed, as autovacuum and checkpoints leave a live database", async () => {
    const [before] = await rowsOf<{ lsn: string }>(handle.db, sql`select pg_current_wal_lsn()::text as lsn`);
    await seedHistory(handle, 2000, 20);

    const [table] = await rowsOf<{ vacuumed: boolean; analyzed: boolean }>(
      handle.db,
      sql`select (last_vacuum is not null or last_autovacuum is not null) as vacuumed,
          (last_analyze is not null or last_autoanalyze is not null) as analyzed
        from pg_stat_user_tables where relname = 'chat_messages'`,
    );
    expect(table).toEqual({ vacuumed: true, analyzed: true });
    // Every page all-visible: what the first reads would otherwise find out (and write) page by page.
    const [pages] = await rowsOf<{ pages: number; allVisible: number }>(
      handle.db,
      sql`select relpages as pages, relallvisible as "allVisible" from pg_class where relname = 'chat_messages'`,
    );
    expect(pages?.pages).toBeGreaterThan(0);
    expect(pages?.allVisible).toBe(pages?.pages);
    // The last checkpoint began after the seed did: the seed's writes are not left for one to come.
    const [checkpoint] = await rowsOf<{ after: boolean }>(
      handle.db,
      sql`select redo_lsn > ${before?.lsn}::pg_lsn as after from pg_control_checkpoint()`,
    );
    expect(checkpoint?.after).toBe(true);
  }, 60_000);
});
