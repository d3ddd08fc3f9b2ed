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
 * `BENCH_V8_FLAGS` sets V8 flags in the probed processes only (diagnosis: `--trace-gc`, `--trace-opt`).
 * Plain JS: the realtime bundle runs without tsx.
 */
import fs from "node:fs";
import { constants, createHistogram, PerformanceObserver, performance } from "node:perf_hooks";
import v8 from "node:v8";

const kinds = {
  [constants.NODE_PERFORMANCE_GC_MINOR]: "minor", // a scavenge of the young generation
  [constants.NODE_PERFORMANCE_GC_MAJOR]: "major",
  [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: "incremental",
  [constants.NODE_PERFORMANCE_GC_WEAKCB]: "weakcb",
};

export function startProbe(file) {
  const write = (line) => {
    try {
      fs.appendFileSync(file, `${JSON.stringify(line)}\n`);
    } catch {} // a probe never takes the process down
  };
  const wall = (t) => +(performance.timeOrigin + t).toFixed(1);
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

if (process.env.BENCH_PROBE_FILE) {
  startProbe(process.env.BENCH_PROBE_FILE);
  // Diagnosis only: V8 flags for the processes the probe was loaded into (e.g. "--trace-gc
  // --trace-opt"), which NODE_OPTIONS would also give the bench and every tool it runs.
  if (process.env.BENCH_V8_FLAGS) v8.setFlagsFromString(process.env.BENCH_V8_FLAGS);
}
