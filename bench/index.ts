/**
 * `npm run bench [-- --quick]`: the real path against its baselines (bench/path.ts). Needs the
 * production build (`npm run build`) and Postgres server binaries (a private cluster is started).
 * Ports: BENCH_PORT_BASE (default 6261) for Postgres, +1 realtime, +2 web; the floor server takes a free one.
 * Prints a Markdown table and writes bench/results/<date>-<commit>.json.
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { FULL, formatTable, machine, QUICK, runBench, runHistory, runStorm } from "./path";

const quick = process.argv.includes("--quick");
// `--only history`: the history reads alone (scenario 4), at the same sizes; `--only storm`: the
// reconnect storm alone.
const alone = { history: runHistory, storm: runStorm } as const;
const onlyAt = process.argv.indexOf("--only");
const only = onlyAt >= 0 ? process.argv[onlyAt + 1] : undefined;
if (only !== undefined && !Object.hasOwn(alone, only)) {
  console.error(`--only: the scenarios that run alone are "history" and "storm", not ${JSON.stringify(only)}`);
  process.exit(2);
}
// The private Postgres cluster lives in a directory of this run's own, away from /tmp/floorline-pg-*
// that other suites create and clean up on this shared machine.
const scratch = fs.mkdtempSync("/var/tmp/floorline-bench-");
fs.chmodSync(scratch, 0o755); // Postgres runs as its own user when we are root
process.env.TMPDIR = scratch;
const started = Date.now();
const result = await (only ? alone[only as keyof typeof alone] : runBench)({
  ...(quick ? QUICK : FULL),
  basePort: Number(process.env.BENCH_PORT_BASE ?? 6261),
  log: (line) => console.error(`[bench] ${line}`),
}).catch((err) => {
  fs.rmSync(scratch, { recursive: true, force: true });
  console.error(err);
  process.exit(1);
});
const table = formatTable(result);
console.log(table);

const git = (...args: string[]) => execFileSync("git", args).toString().trim();
const commit = git("rev-parse", "--short", "HEAD");
const dirty = git("status", "--porcelain").length > 0;
const postgres = execFileSync("psql", ["--version"]).toString().trim();
const date = new Date().toISOString().slice(0, 10);
const dir = path.join(import.meta.dirname, "results");
fs.mkdirSync(dir, { recursive: true });
const file = path.join(
  dir,
  `${date}-${commit}${dirty ? "-dirty" : ""}${quick ? "-quick" : ""}${only ? `-${only}` : ""}.json`,
);
fs.writeFileSync(
  file,
  `${JSON.stringify({ date: new Date().toISOString(), commit, dirty, quick, only, machine: { ...machine(), loadAverage: (await import("node:os")).loadavg(), postgres }, seconds: Math.round((Date.now() - started) / 1000), table, ...result }, null, 2)}\n`,
);
console.error(`[bench] wrote ${path.relative(process.cwd(), file)} in ${Math.round((Date.now() - started) / 1000)} s`);
fs.rmSync(scratch, { recursive: true, force: true });
process.exit(result.integrity.lost || result.integrity.duplicated || result.integrity.seqGaps ? 1 : 0);
