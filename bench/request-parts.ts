/**
 * A history read's server time taken apart, from what bench/probe.mjs wrote for each request the
 * bench marked with `x-bench-probe` (the web process writes them when asked, after the reads): how much of it the
 * web's JavaScript thread ran, waited for a core, or slept (waiting for Postgres or a socket), and
 * of the Postgres round trip how much the backend ran or waited for a core. Used by
 * `historyScenario` (bench/path.ts); bench/README.md "Thread page tails, taken apart".
 */
import fs from "node:fs";

type Sched = { run: number; wait: number; n: number } | null;
export type RequestLine = {
  req: string;
  t: number;
  ms: number;
  cpu: number;
  main: Sched;
  q: { name: string; pool: number | null; at: number; ms?: number; pg?: Sched; main?: Sched; since?: Sched }[];
};

/** One sample's parts, ms. `toWeb` / `back`: the bench's send → the web taking the request, its 'finish' → the bench's answer. */
export type RequestParts = {
  id: string;
  server: number;
  toWeb: number;
  back: number;
  /** The process's CPU over the request (all threads), its JavaScript thread on a core, and waiting for one. */
  cpu: number;
  mainRun: number | null;
  mainWait: number | null;
  /** Times the JavaScript thread was put on a core during the request (each sleep and wake is one more). */
  mainSlices: number | null;
  /** Postgres round trips the request made, their sum, and the backend's run / wait for a core in them. */
  queries: number;
  db: number;
  pgRun: number | null;
  pgWait: number | null;
  /** The web's JavaScript thread waiting for a core while its query was out (the answer had come, or was coming). */
  webWaitInDb: number | null;
  /** Taking the request → calling the (first) query (and of it the JavaScript thread on a core); its callback → writing the answer. */
  beforeDb: number | null;
  beforeDbRun: number | null;
  afterDb: number | null;
  /**
   * The machine's steal time (the hypervisor running something else on its cores; /proc/stat, all
   * cores, 10 ms ticks) from the bench's send to its answer: the kernel counts it as neither the
   * thread's run nor its wait.
   */
  steal: number | null;
  /** The probe's line as written: each query's own times. */
  q: RequestLine["q"];
};

/** The marked requests' lines in a probe log, by id. */
export function readRequestLines(file: string): Map<string, RequestLine> {
  const lines = new Map<string, RequestLine>();
  if (!fs.existsSync(file)) return lines;
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (!line.startsWith('{"req"')) continue;
    const x = JSON.parse(line) as RequestLine;
    lines.set(x.req, x);
  }
  return lines;
}

/** Asks the probe in process `pid` to write its lines (SIGUSR2), then waits (at most `ms`) until there is one for every id. */
export async function requestLinesFor(pid: number | undefined, file: string, ids: string[], ms = 5000) {
  if (pid) process.kill(pid, "SIGUSR2");
  const until = performance.now() + ms;
  for (;;) {
    const lines = readRequestLines(file);
    if (ids.every((id) => lines.has(id)) || performance.now() > until) return lines;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

const r3 = (x: number) => +x.toFixed(3);
const sum = (xs: (number | null | undefined)[]) => xs.reduce<number>((a, x) => a + (x ?? 0), 0);

/** A sample's parts from its probe line and the bench's own send / answer times (ms since the epoch). */
export function partsOf(line: RequestLine, sent: number, received: number, steal: number | null): RequestParts {
  const done = line.q.filter((q) => q.ms !== undefined);
  const first = line.q[0];
  const last = done.at(-1);
  const pg = done.map((q) => q.pg);
  return {
    id: line.req,
    server: line.ms,
    toWeb: r3(line.t - sent),
    back: r3(received - (line.t + line.ms)),
    cpu: line.cpu,
    mainRun: line.main?.run ?? null,
    mainWait: line.main?.wait ?? null,
    mainSlices: line.main?.n ?? null,
    queries: line.q.length,
    db: r3(sum(done.map((q) => q.ms))),
    pgRun: pg.every(Boolean) ? r3(sum(pg.map((p) => p?.run))) : null,
    pgWait: pg.every(Boolean) ? r3(sum(pg.map((p) => p?.wait))) : null,
    webWaitInDb: done.every((q) => q.main) ? r3(sum(done.map((q) => q.main?.wait))) : null,
    beforeDb: first ? first.at : null,
    beforeDbRun: first?.since?.run ?? null,
    afterDb: last ? r3(line.ms - (last.at + (last.ms ?? 0))) : null,
    steal,
    q: line.q,
  };
}

const keys = [
  "server",
  "toWeb",
  "back",
  "cpu",
  "mainRun",
  "mainWait",
  "mainSlices",
  "db",
  "pgRun",
  "pgWait",
  "webWaitInDb",
  "beforeDb",
  "beforeDbRun",
  "afterDb",
  "steal",
] as const;

/** The median of each part over the samples (null where no sample has it). */
export function medianParts(parts: RequestParts[]) {
  const out: Partial<Record<(typeof keys)[number], number | null>> = {};
  for (const k of keys) {
    const xs = parts.flatMap((p) => (p[k] === null ? [] : [p[k] as number])).sort((a, b) => a - b);
    out[k] = xs.length ? r3(xs[Math.floor(xs.length / 2)] as number) : null;
  }
  return out;
}

/** One line for the log: a sample's parts, ms. */
export function showParts(p: Partial<Record<(typeof keys)[number], number | null>>) {
  const f = (x: number | null | undefined) => (x === null || x === undefined ? "-" : String(+x.toFixed(2)));
  return `server ${f(p.server)} = before db ${f(p.beforeDb)} (js run ${f(p.beforeDbRun)}) + db ${f(p.db)} (pg run ${f(p.pgRun)}, pg wait ${f(p.pgWait)}, web wait ${f(p.webWaitInDb)}) + after ${f(p.afterDb)}; web js run ${f(p.mainRun)}, wait for a core ${f(p.mainWait)}, slices ${f(p.mainSlices)}, cpu all threads ${f(p.cpu)}; to web ${f(p.toWeb)}, back ${f(p.back)}; steal ${f(p.steal)}`;
}
