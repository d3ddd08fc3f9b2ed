import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { sql } from "drizzle-orm";
import { connectPostgres, type Db } from "@/db/client";
import { type Stack, startStack } from "../tests/support/stack";
import { type SignedIn, signedInPlayers, signedInStaff } from "./signed-in-players";

/** The load average, as every line of a paired run prints it. */
export const load = () => os.loadavg().map((x) => x.toFixed(2));

const commit = (dir: string) => execFileSync("git", ["-C", dir, "rev-parse", "--short", "HEAD"]).toString().trim();

/**
 * What bench/ab.ts and bench/first-request.ts share: two production builds run at once, A from
 * BASE (its own tests/support/stack.ts, imported from there, and its own build) and B from this
 * checkout, each on a private stack (BENCH_PORT_BASE, default 6261: A's Postgres, +1 realtime, +2
 * web; B's the same from +5) with one player and one staff member signed in (`prefix` names them).
 * `webNodeArgs` gives each side's web process its node flags (e.g. `--trace-gc-nvp`).
 * Prints the start line (time, load, both commits). What a run starts goes into `started` (stopped
 * in order by `stopAll`, also on SIGINT / SIGTERM).
 */
export async function twoBuilds(prefix: string, webNodeArgs: (side: Side["name"]) => string[] = () => []) {
  const base = process.env.BASE;
  const stackFile = base && path.resolve(base, "tests/support/stack.ts");
  if (!base || !stackFile || !fs.existsSync(stackFile))
    throw new Error("BASE=<the other checkout, with `npm ci` and `npm run build` done> is required");
  const started: Array<{ stop(): Promise<void> }> = [];
  const stopAll = async () => {
    for (const s of started.splice(0)) await s.stop().catch((err) => console.error("stopping:", err));
  };
  for (const signal of ["SIGINT", "SIGTERM"] as const)
    process.once(signal, () => void stopAll().then(() => process.exit(130)));
  const baseStack: { startStack: typeof startStack } = await import(pathToFileURL(stackFile).href);
  console.log(
    "start",
    JSON.stringify({ at: new Date().toISOString(), load: load(), A: `${base} ${commit(base)}`, B: `. ${commit(".")}` }),
  );
  const basePort = Number(process.env.BENCH_PORT_BASE ?? 6261);
  const sides: Side[] = [];
  try {
    for (const [i, [name, start]] of (
      [
        ["A", baseStack.startStack],
        ["B", startStack],
      ] as const
    ).entries()) {
      const stack = await start(basePort + 5 * i, { PLAYER_SEND_PER_SECOND: "0" }, webNodeArgs(name));
      started.push(stack);
      const handle = connectPostgres(stack.postgres.url, 2);
      started.unshift({ stop: () => handle.close() });
      const [player] = await signedInPlayers(stack, handle.db, 1, `${prefix}-${name.toLowerCase()}`);
      const [member] = await signedInStaff(stack, handle.db, 1, `${prefix}-${name.toLowerCase()}-staff`);
      if (!player || !member) throw new Error("no accounts");
      sides.push({ name, stack, handle, player, member });
    }
  } catch (err) {
    await stopAll();
    throw err;
  }
  return { sides, started, stopAll };
}

export type Side = {
  name: "A" | "B";
  stack: Stack;
  /** A connection of the bench's own to the side's database. */
  handle: ReturnType<typeof connectPostgres>;
  player: SignedIn;
  member: SignedIn;
};

/**
 * Fills a fresh player's chat (its first message seq 1) up to `messages` messages, rows as the
 * bench's history seed writes them ("history message <seq>", alternating player / staff): a thread
 * whose page is a full 50 to read (bench/thread-alloc.ts, ab.ts's thread.page).
 */
export async function fillThread(db: Db, chat: { id: string; playerId: number }, messages: number) {
  await db.execute(sql`
    INSERT INTO chat_messages (id, request_id, player_id, seq, sender, sender_name, message_text, timestamp, status)
    SELECT gen_random_uuid(), ${chat.id}, ${chat.playerId}, s,
      (CASE WHEN s % 2 = 1 THEN 'player' ELSE 'staff' END)::chat_message_sender,
      'x', 'history message ' || s, now() - interval '30 days' + s * interval '1 minute', 'read'
    FROM generate_series(2, ${messages}) s`);
  await db.execute(sql`update players set last_seq = ${messages} where id = ${chat.playerId}`);
}
