/**
 * Search at volume: MESSAGES chat messages (default 1,000,000) over 10,000 players in a database
 * of its own, then the staff search (server/chat/search.ts) timed for word, name and Player ID
 * queries, first page and a later page.
 *
 *   BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/floorline_bench_search npx tsx bench/search.ts
 *
 * The database is dropped and created again on each run (BENCH_REUSE=1 keeps the loaded one).
 */
import { performance } from "node:perf_hooks";
import { sql } from "drizzle-orm";
import pg from "pg";
import { connectPostgres } from "@/db/client";
import { migrate } from "@/db/migrate";
import { searchChats } from "@/server/chat/search";

const url = process.env.BENCH_DATABASE_URL;
if (!url) throw new Error("Set BENCH_DATABASE_URL to a database this bench may drop and create");
const MESSAGES = Number(process.env.MESSAGES ?? 1_000_000);
const PLAYERS = 10_000;

const reuse = process.env.BENCH_REUSE === "1";
const name = new URL(url).pathname.slice(1);
if (!reuse) {
  const admin = new pg.Client({ connectionString: url.replace(/\/[^/]*$/, "/postgres") });
  await admin.connect();
  await admin.query(`drop database if exists ${name} with (force)`);
  await admin.query(`create database ${name}`);
  await admin.end();
}

const handle = connectPostgres(url, 4);
await migrate(handle);
const db = handle.db;
const t0 = performance.now();
if (!reuse) {
  await db.execute(sql`insert into "user" (id, name, email, role)
  select 'u' || g, 'Player ' || g, 'p' || g || '@bench.test', 'player' from generate_series(1, ${PLAYERS}) g`);
  await db.execute(sql`insert into players (id, user_id, display_name)
  select g, 'u' || g, (array['Ravi','Meera','Arjun','Asha','Vikram','Priya','Kiran','Dev'])[1 + g % 8] || ' ' || g
  from generate_series(1, ${PLAYERS}) g`);
  await db.execute(sql`insert into chat_requests (player_id, player_name, initial_message, status)
  select p.id, p.display_name, 'hello', 'resolved' from players p`);
  const words = "cashout withdrawal deposit table bonus credit balance wait help thanks card chips seat game payout";
  await db.execute(sql`insert into chat_messages (id, request_id, player_id, seq, sender, sender_name, message_text, timestamp)
  select gen_random_uuid(), r.id, r.player_id, g, 'player', r.player_name,
    (string_to_array(${words}, ' '))[1 + (g * 7 + r.player_id) % 15] || ' ' ||
    (string_to_array(${words}, ' '))[1 + (g * 13 + r.player_id * 3) % 15] || ' message ' || g || ' of ' || r.player_id,
    now() - make_interval(secs => g * 37 + r.player_id)
  from chat_requests r, generate_series(1, ${MESSAGES / PLAYERS}) g`);
  await db.execute(sql`analyze`);
}
console.log(`loaded ${MESSAGES.toLocaleString()} messages in ${((performance.now() - t0) / 1000).toFixed(1)} s`);

async function time(label: string, q: string, pages = 1) {
  const samples: number[] = [];
  for (let i = 0; i < 20; i++) {
    let cursor: Awaited<ReturnType<typeof searchChats>>["next"];
    const start = performance.now();
    for (let p = 0; p < pages; p++) cursor = (await searchChats(db, { q, limit: 20, cursor })).next;
    samples.push((performance.now() - start) / pages);
  }
  samples.sort((a, b) => a - b);
  console.log(`${label.padEnd(34)} p50 ${samples[10]?.toFixed(1)} ms  max ${samples[19]?.toFixed(1)} ms`);
}
await time("rare word ('payout 4242'):", "payout 4242");
await time("common word ('cashout'), page 1:", "cashout");
await time("common word, pages 1-5 (per page):", "cashout", 5);
await time("player name ('Meera'):", "Meera");
await time("Player ID (4242):", "4242");
await handle.close();
