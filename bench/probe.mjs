/**
 * Loaded into the stack's web and realtime processes by the bench (`NODE_OPTIONS=--import=…`,
 * bench/path.ts; the bench calls `startProbe` in its own process) so a run can tell what a slow
 * delivery was made of. Appends JSON lines to a file, with wall-clock times (ms since the epoch)
 * the bench lines up with its own samples (bench/tails.ts):
 * - every GC pause ≥ 1 ms (`perf_hooks` 'gc' entries): `{ gc: kind, t, ms }`;
 * - every time a 10 ms interval fired ≥ 5 ms late (the event loop held by a long task, GC, or the
 *   process waiting for a core): `{ stall: ms, t }`;
 * - once a second, the event-loop delay of that second (the same interval's lateness):
 *   `{ eld: { p50, p99, max, n }, t }`.
 * - each HTTP request the bench marked with an `x-bench-probe: <id>` header (the history reads):
 *   `{ req: id, t, ms, cpu, main, q }` — see `startRequestProbe`; written on SIGUSR2 (the bench
 *   sends it after its reads) and at exit. Unmarked requests cost one header look-up; the header
 *   does nothing where the probe is not loaded (any real server).
 * `BENCH_V8_FLAGS` sets V8 flags in the probed processes only (diagnosis: `--trace-gc`, `--trace-opt`).
 * Plain JS: the realtime bundle runs without tsx.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import dc from "node:diagnostics_channel";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { constants, createHistogram, PerformanceObserver, performance } from "node:perf_hooks";
import v8 from "node:v8";

const kinds = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: "minor", // a scavenge of the young generation
  [constants.NODE_PERFORMANCE_GC_MAJOR]: "major",
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weakcb",
};

export function startProbe(file) {
  /** One JSON line, or several in one append. */
  const write = (lines) => {
    try {
      const text = Array.isArray(lines) ? lines.map((l) => JSON.stringify(l)).join("\n") : JSON.stringify(lines);
      fs.appendFileSync(file, `${text}\n`);
    } catch {} // a probe never takes the process down
  };
  const wall = (t) => +(performance.timeOrigin + t).toFixed(1);
  // The marked requests' lines are written when the bench asks (SIGUSR2, after its reads) and at
  // exit, never during the reads: written once a second, the write (~400 lines) took the web's
  // thread for 3–5 ms while one of them waited for its query (seen 2026-11-27).
  const requests = startRequestProbe();
  const flush = () => {
    if (requests.length) write(requests.splice(0));
  };
  process.on("SIGUSR2", flush);
  process.on("exit", flush);
  new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.duration < 1) continue;
      const kind = e.detail?.kind ?? e.kind;
      write({ gc: kinds[kind] ?? String(kind), t: wall(e.startTime), ms: +e.duration.toFixed(2) });
    }
  }).observe({ entryTypes: ["gc"] });
  const every = 10;
  const delay = createHistogram();
  let expected = performance.now() + every;
  let second = performance.now();
  setInterval(() => {
    const now = performance.now();
    const late = Math.max(0, now - expected);
    delay.record(Math.max(1, Math.round(late * 1000))); // µs; the histogram takes integers ≥ 1
    if (late >= 5) write({ stall: +late.toFixed(1), t: wall(now - late) });
    if (now - second >= 1000) {
      const ms = (x) => +(x / 1000).toFixed(2);
      write({
        eld: { p50: ms(delay.percentile(50)), p99: ms(delay.percentile(99)), max: ms(delay.max), n: delay.count },
        t: wall(now),
      });
      delay.reset();
      second = now;
    }
    expected = now + every;
  }, every).unref();
}

/**
 * Where a marked request's server time went (bench/path.ts sends the header on the history reads,
 * bench/README.md "Thread page tails, taken apart"). One line per request, times in ms:
 * - `t` when Node handed the request to the server (http.server.request.start; wall clock, ms since
 *   the epoch, as the bench's own `sent` / `received`), `ms` from there to the call that writes the
 *   answer (`res.end`, as Server-Timing's end);
 * - `cpu`: the whole process's CPU over that span (process.cpuUsage: every thread, GC helpers too);
 * - `main`: the JavaScript thread's own scheduler account over the span (/proc/self/task/<pid>/schedstat):
 *   `run` on a core, `wait` runnable but waiting for one, `n` times it was put on a core. What is
 *   left of `ms` is the thread asleep: waiting for Postgres, a socket, a timer;
 * - `q`: each Postgres query the request (or work it started, e.g. a session refresh) made through
 *   node-postgres: its `name`, `pool` when pool.query was called and `at` when the connection's
 *   query was (ms after `t`), `ms` to its callback, the Postgres backend's own `run` / `wait` over
 *   it (/proc/<backend pid>/schedstat: the cluster is local) and the JavaScript thread's (`main`;
 *   `since`: the thread's from taking the request to the query).
 */
function startRequestProbe() {
  const lines = [];
  const store = new AsyncLocalStorage();
  const wall = (t) => +(performance.timeOrigin + t).toFixed(3);
  const ms = (x) => +x.toFixed(3);
  /**
   * [on a core, waiting for a core, times put on a core] in ms, ms, count; null if unreadable. Read
   * from a file kept open (pread at 0 makes the kernel write it anew): ~10 µs a read against 60–120
   * for opening it each time on this machine under load, six times a request.
   */
  const fds = new Map();
  const buf = Buffer.alloc(128);
  const sched = (file) => {
    let fd = fds.get(file);
    try {
      if (fd === undefined) {
        fd = fs.openSync(file, "r");
        fds.set(file, fd);
      }
      const [run, wait, n] = buf
        .latin1Slice(0, fs.readSync(fd, buf, 0, buf.length, 0))
        .split(" ")
        .map(Number);
      return [run / 1e6, wait / 1e6, n];
    } catch {
      try {
        if (fd !== undefined) fs.closeSync(fd); // a backend that has gone
      } catch {}
      fds.delete(file);
      return null;
    }
  };
  // The JavaScript thread's own file: its task id is the process id (thread-self would name whichever thread opened it).
  const mainThread = `/proc/self/task/${process.pid}/schedstat`;
  const delta = (a, b) => (a && b ? { run: ms(b[0] - a[0]), wait: ms(b[1] - a[1]), n: b[2] - a[2] } : null);
  let patched = false;
  // node-postgres as the app loaded it (tsx's import of a CommonJS package shares require's cache).
  // Patched at the first marked request, by when the app has loaded it; never in other processes.
  const patchPg = () => {
    patched = true;
    let pg;
    try {
      pg = createRequire(path.join(process.cwd(), "package.json"))("pg");
    } catch {
      return;
    }
    const poolQuery = pg.Pool.prototype.query;
    pg.Pool.prototype.query = function (...args) {
      const rec = store.getStore();
      // In call order: a request's queries may be in the pool at once (a session refresh beside its page).
      if (rec) rec.poolAt.push(performance.now());
      return poolQuery.apply(this, args);
    };
    const query = pg.Client.prototype.query;
    pg.Client.prototype.query = function (...args) {
      const [config, values, callback] = args;
      const rec = store.getStore();
      // pg-pool calls it with a callback; only that form is timed (a direct client's promise is not).
      if (!rec || typeof callback !== "function") return query.apply(this, args);
      const backend = `/proc/${this.processID}/schedstat`;
      const started = performance.now();
      const poolAt = rec.poolAt.shift();
      const q = {
        name:
          typeof config === "object" ? (config.name ?? String(config.text).slice(0, 40)) : String(config).slice(0, 40),
        pool: poolAt === undefined ? null : ms(poolAt - rec.t0),
        at: ms(started - rec.t0),
      };
      const before = sched(backend);
      const mainBefore = sched(mainThread);
      // The JavaScript thread from taking the request to this query.
      q.since = delta(rec.main0, mainBefore);
      rec.q.push(q);
      return query.call(this, config, values, function (...result) {
        q.ms = ms(performance.now() - started);
        q.pg = delta(before, sched(backend));
        q.main = delta(mainBefore, sched(mainThread));
        return callback.apply(this, result);
      });
    };
  };
  dc.subscribe("http.server.request.start", ({ request, response }) => {
    const id = request.headers["x-bench-probe"];
    if (typeof id !== "string") {
      // enterWith sets the context of the socket's read callbacks: a marked request's record must
      // not collect the queries of the next, unmarked one on the same keep-alive connection.
      if (store.getStore()) store.enterWith(undefined);
      return;
    }
    if (!patched) patchPg();
    const rec = {
      t0: performance.now(),
      cpu0: process.cpuUsage(),
      main0: sched(mainThread),
      q: [],
      poolAt: [],
    };
    // The request's own work (and what it starts) runs in this context from here: the queries find it.
    store.enterWith(rec);
    // Its end is the call that writes the answer (as Server-Timing's), not 'finish', which comes
    // after the write's callback: a thread waiting for a core there has already sent the answer.
    const end = response.end;
    response.end = function (...args) {
      const now = performance.now();
      const cpu = process.cpuUsage(rec.cpu0);
      lines.push({
        req: id,
        t: wall(rec.t0),
        ms: ms(now - rec.t0),
        cpu: ms((cpu.user + cpu.system) / 1000),
        main: delta(rec.main0, sched(mainThread)),
        q: rec.q,
      });
      return end.apply(this, args);
    };
  });
  return lines;
}

if (process.env.BENCH_PROBE_FILE) {
  startProbe(process.env.BENCH_PROBE_FILE);
  // Diagnosis only: V8 flags for the processes the probe was loaded into (e.g. "--trace-gc
  // --trace-opt"), which NODE_OPTIONS would also give the bench and every tool it runs.
  if (process.env.BENCH_V8_FLAGS) v8.setFlagsFromString(process.env.BENCH_V8_FLAGS);
}
