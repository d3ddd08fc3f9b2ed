/**
 * `npx tsx bench/instructions.ts`: the web process's instructions per signed-in `chat.send`, counted
 * by valgrind's callgrind, which counts instructions, not seconds: what a send runs does not move
 * with the machine's load, so it can compare builds on a shared machine where CPU time cannot.
 * Work done per unit of time (timers, V8's time-driven collector tasks) still lands in a block in
 * proportion to its length: compare runs made at once or at the same speed (the warm-up's seconds).
 *
 * The private stack (tests/support/stack.ts, after `npm run build`) starts as usual; one player
 * signs in and a staff member holds the player's chat (as bench/lone-send.ts). Then the web process
 * is started again under `valgrind --tool=callgrind --smc-check=all --instr-atstart=no` (V8's JIT
 * writes code: smc-check makes valgrind see it), JIT on as in production, and its own warm-up runs
 * uncounted. WARMUP (2000) sends follow, still uncounted; then counting is switched on
 * (`callgrind_control -i on`) and ROUNDS (5) blocks of BLOCK (200) sends one at a time run, each
 * ending with a dump (`callgrind_control -d`): the instructions since the last one. callgrind acts
 * on a command only while the process runs, so each command is pushed through with `chat.me`
 * requests until it is done (a block holds one or two: ~0.1 % of it).
 *
 * Each dump is split by function name (bench/callgrind-parts.ts) into V8's collector (`gc`), its
 * compilers (`compile`: TurboFan still recompiles after thousands of sends, as deopts come) and
 * the rest (`code`: what the requests' own code runs, our code, Next's, tRPC's, Node's and the
 * builtins'). `gc` and `compile` land in whichever block they happen to fall in, so compare builds
 * by `code` per send (median of the blocks and all blocks pooled); the dumps stay in OUT
 * (callgrind_annotate them: V8's compiled JavaScript shows as addresses, so pair with
 * bench/profile-send.ts for names). A run writes OUT/instructions.json.
 *
 * NODE_FLAGS (e.g. `--single-threaded`, `--jitless`) go to the web's node. BENCH_PORT_BASE (default
 * 6261): Postgres, +1 realtime, +2 web. Under valgrind the web starts in ~4 min and a send takes
 * ~20× its time: a run is ~15 min on a loaded machine.
 */
import { execFile } from "node:child_process";
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { connectPostgres } from "@/db/client";
import { Managed, startStack } from "../tests/support/stack";
import { PARTS, type Parts, partsOf } from "./callgrind-parts";
import { request, trpcPost } from "./path";
import { playerWithHeldChat } from "./signed-in-players";

const run = promisify(execFile);
const warmup = Number(process.env.WARMUP ?? 2000);
const rounds = Number(process.env.ROUNDS ?? 5);
const block = Number(process.env.BLOCK ?? 200);
const nodeFlags = (process.env.NODE_FLAGS ?? "").split(" ").filter(Boolean);
const out = process.env.OUT ?? fs.mkdtempSync(path.join(os.tmpdir(), "floorline-callgrind-"));
fs.mkdirSync(out, { recursive: true });

const fmt = (n: number) => Math.round(n).toLocaleString("en");
const stack = await startStack(Number(process.env.BENCH_PORT_BASE ?? 6261), { PLAYER_SEND_PER_SECOND: "0" });
const handle = connectPostgres(stack.postgres.url, 2);
let web: Managed | undefined;
try {
  const { player } = await playerWithHeldChat(stack, handle.db, "count");

  // The same web process, now under callgrind (sessions live in Postgres: the cookies still hold).
  await stack.web.kill("SIGTERM");
  const outFile = path.join(out, "callgrind.out.%p");
  web = new Managed(
    "web (callgrind)",
    "valgrind",
    [
      "--tool=callgrind",
      "--smc-check=all",
      "--instr-atstart=no",
      `--callgrind-out-file=${outFile}`,
      process.execPath,
      ...nodeFlags,
      "--import",
      "tsx",
      "server/http/serve.ts",
    ],
    stack.env,
    `${stack.url}/sign-in`,
    900_000,
  );
  const startedAt = Date.now();
  await web.start();
  const pid = web.pid;
  console.log(`[instructions] web under callgrind (pid ${pid}) up in ${Math.round((Date.now() - startedAt) / 1000)} s`);

  const send = async () => {
    const reply = await trpcPost(stack.url, "chat.send", player.cookie, { id: randomUUID(), text: "counted" });
    if (reply.status !== 200) throw new Error(`chat.send: HTTP ${reply.status} ${reply.body}`);
  };
  const poke = async () => {
    const reply = await request(`${stack.url}/api/trpc/chat.me`, { headers: { cookie: player.cookie } });
    if (reply.status !== 200) throw new Error(`chat.me: HTTP ${reply.status}`);
  };
  /** A callgrind_control command, with requests until the process has taken it (it acts only while running). */
  const control = async (...args: string[]) => {
    let done = false;
    const command = run("callgrind_control", [...args, String(pid)]).finally(() => {
      done = true;
    });
    let pokes = 0;
    while (!done) {
      await poke();
      pokes++;
    }
    await command;
    return pokes;
  };
  const dumps = () =>
    fs
      .readdirSync(out)
      .filter((f) => f.startsWith(`callgrind.out.${pid}.`))
      .sort((a, b) => Number(a.split(".").at(-1)) - Number(b.split(".").at(-1)));

  const warmStarted = Date.now();
  for (let i = 0; i < warmup; i++) await send();
  console.log(`[instructions] ${warmup} warm-up sends in ${Math.round((Date.now() - warmStarted) / 1000)} s`);
  await control("-i", "on");
  await control("-d");
  const rows: Array<{ file: string; pokes: number; counted: Parts; perSend: Parts }> = [];
  for (let round = 0; round < rounds; round++) {
    for (let i = 0; i < block; i++) await send();
    const pokes = await control("-d");
    const file = dumps().at(-1);
    if (!file) throw new Error("no dump");
    const counted = partsOf(fs.readFileSync(path.join(out, file), "utf8"));
    // The block holds the pokes that pushed the dump through too: each ~1/4 of a send (chat.me).
    const perSend = Object.fromEntries(PARTS.map((part) => [part, counted[part] / block])) as Parts;
    rows.push({ file, pokes, counted, perSend });
    console.log(
      `[instructions] round ${round + 1}: per send ${PARTS.map((part) => `${part} ${fmt(perSend[part])}`).join(", ")} (${pokes} poke(s))`,
    );
  }
  const summary = Object.fromEntries(
    PARTS.map((part) => {
      const per = rows.map((r) => r.perSend[part]).sort((a, b) => a - b);
      return [part, { median: per[Math.floor(per.length / 2)] ?? NaN, min: per[0] ?? NaN, max: per.at(-1) ?? NaN }];
    }),
  );
  for (const part of PARTS) {
    const { median, min, max } = summary[part] ?? { median: NaN, min: NaN, max: NaN };
    console.log(
      `[instructions] ${part} per send: median ${fmt(median)}, min ${fmt(min)}, max ${fmt(max)} (spread ${(((max - min) / median) * 100).toFixed(2)} %)`,
    );
  }
  // All rounds pooled: a collection or a compile lands in one block, its cost spread over all.
  const pooled = Object.fromEntries(
    PARTS.map((part) => [part, rows.reduce((sum, r) => sum + r.counted[part], 0) / (rows.length * block)]),
  ) as Parts;
  console.log(`[instructions] pooled per send: ${PARTS.map((part) => `${part} ${fmt(pooled[part])}`).join(", ")}`);
  console.log(`[instructions] NODE_FLAGS=${nodeFlags.join(" ") || "(none)"}; dumps in ${out}`);
  fs.writeFileSync(
    path.join(out, "instructions.json"),
    JSON.stringify({ nodeFlags, warmup, block, rows, summary, pooled }, null, 1),
  );
} finally {
  await web?.kill("SIGTERM");
  await handle.close();
  await stack.stop();
}
