/**
 * What the slowest 1 % of deliveries were made of, next to the median ones: each sample's parts
 * (bench/path.ts `Parts`) and what the processes' probes (bench/probe.mjs) logged while it was in
 * flight. Counts, not only wall-clock times, since the machine is shared: GC pauses ≥ 5 ms per
 * 1,000 sends, loop stalls, the event-loop delay of each second.
 */
import fs from "node:fs";
import type { Parts } from "./path";

type GcLine = { gc: string; t: number; ms: number };
type StallLine = { stall: number; t: number };
type EldLine = { eld: { p50: number; p99: number; max: number; n: number }; t: number };
export type ProbeLog = { gcs: GcLine[]; stalls: StallLine[]; eld: EldLine[] };

export function readProbe(file: string): ProbeLog {
  const log: ProbeLog = { gcs: [], stalls: [], eld: [] };
  if (!fs.existsSync(file)) return log;
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    if (!line) continue;
    const x = JSON.parse(line);
    if ("gc" in x) log.gcs.push(x);
    else if ("stall" in x) log.stalls.push(x);
    else if ("eld" in x) log.eld.push(x);
  }
  return log;
}

const r2 = (x: number) => +x.toFixed(2);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? r2(s[Math.floor(s.length / 2)] as number) : null;
};

/** One process over [from, to] (ms since the epoch): its GC pauses and event-loop delay. */
export function processSummary(log: ProbeLog, from: number, to: number, sends: number) {
  const gcs = log.gcs.filter((g) => g.t >= from && g.t <= to);
  const stalls = log.stalls.filter((s) => s.t >= from && s.t <= to);
  const eld = log.eld.filter((e) => e.t >= from && e.t <= to + 1000);
  const per1000 = (n: number) => (sends ? r2((n * 1000) / sends) : null);
  const byKind: Record<string, { n: number; ms: number; max: number }> = {};
  for (const g of gcs) {
    const k = byKind[g.gc] ?? { n: 0, ms: 0, max: 0 };
    byKind[g.gc] = k;
    k.n++;
    k.ms = r2(k.ms + g.ms);
    k.max = Math.max(k.max, g.ms);
  }
  return {
    gcMs: r2(gcs.reduce((a, g) => a + g.ms, 0)),
    gcByKind: byKind,
    gcOver5PerThousandSends: per1000(gcs.filter((g) => g.ms >= 5).length),
    gcMax: Math.max(0, ...gcs.map((g) => g.ms)),
    stallsOver5PerThousandSends: per1000(stalls.length),
    stallsOver20: stalls.filter((s) => s.stall >= 20).length,
    stallMax: Math.max(0, ...stalls.map((s) => s.stall)),
    /** The five longest of each, to line up with the slow samples (`at`). */
    longestGcs: [...gcs].sort((a, b) => b.ms - a.ms).slice(0, 5),
    longestStalls: [...stalls].sort((a, b) => b.stall - a.stall).slice(0, 5),
    /** Each second's event-loop delay p99: the median second and the worst. */
    eldP99: { median: median(eld.map((e) => e.eld.p99)), worst: Math.max(0, ...eld.map((e) => e.eld.p99)) },
  };
}

/** The parts of a group of samples: medians, ms from the request's start. */
function groupParts(samples: Parts[]) {
  const acked = samples.filter((s) => s.ack !== null);
  return {
    n: samples.length,
    total: median(samples.map((s) => s.last)),
    /** request → answer, and of it the web process's own time */
    answer: median(acked.map((s) => s.ack as number)),
    server: median(samples.flatMap((s) => (s.server === null ? [] : [s.server]))),
    /** answer → first socket (negative: the event beat the answer) */
    answerToFirst: median(acked.map((s) => s.first - (s.ack as number))),
    firstToLast: median(samples.map((s) => s.last - s.first)),
    /** samples whose every socket had the event before the bench had the answer */
    eventBeforeAnswer: samples.length - acked.length,
  };
}

/** Whether a process logged a GC pause or a stall ≥ 5 ms that overlaps [from, to]. */
function during(log: ProbeLog, from: number, to: number) {
  const gc = log.gcs.some((g) => g.ms >= 5 && g.t <= to && g.t + g.ms >= from);
  const stall = log.stalls.some((s) => s.t <= to && s.t + s.stall >= from);
  return { gc, stall };
}

/**
 * The slowest 1 % (at least one sample) against the middle of the distribution (45th–55th
 * percentile), and for the slow ones: how many overlapped a GC pause or a loop stall ≥ 5 ms in each
 * process (web, realtime, the bench's own), and how many overlapped none of them.
 */
export function tails(samples: Parts[], probes: Record<string, ProbeLog>, from: number) {
  const sorted = [...samples].sort((a, b) => a.last - b.last);
  const n = sorted.length;
  if (!n) return null;
  const slow = sorted.slice(n - Math.max(1, Math.ceil(n / 100)));
  const mid = sorted.slice(Math.floor(n * 0.45), Math.max(Math.floor(n * 0.45) + 1, Math.ceil(n * 0.55)));
  const overlaps: Record<string, { gc: number; stall: number }> = {};
  let none = 0;
  for (const s of slow) {
    let any = false;
    for (const [name, log] of Object.entries(probes)) {
      const d = during(log, s.at, s.at + s.last);
      const o = overlaps[name] ?? { gc: 0, stall: 0 };
      overlaps[name] = o;
      if (d.gc) o.gc++;
      if (d.stall) o.stall++;
      any ||= d.gc || d.stall;
    }
    if (!any) none++;
  }
  // Slow samples come in bursts (one pause delays every send in flight): which seconds of the
  // scenario they started in, and how many in each.
  const bySecond: Record<string, number> = {};
  for (const s of slow) {
    const second = String(Math.floor((s.at - from) / 1000));
    bySecond[second] = (bySecond[second] ?? 0) + 1;
  }
  return {
    median: groupParts(mid),
    slowest1pc: groupParts(slow),
    slowOverlapping: overlaps,
    slowOverlappingNothing: none,
    /** seconds after the scenario's start → slow samples that started in it */
    slowBySecond: bySecond,
    /** the slow samples themselves, for a closer look */
    slow,
  };
}

/** The log lines: the two groups' parts side by side, then what the slow ones overlapped. */
export function tailLines(label: string, t: NonNullable<ReturnType<typeof tails>>) {
  const show = (g: ReturnType<typeof groupParts>) =>
    `total ${g.total} | answer ${g.answer} (server ${g.server}) | answer → first socket ${g.answerToFirst} | first → last ${g.firstToLast} | event before answer ${g.eventBeforeAnswer}/${g.n}`;
  const o = Object.entries(t.slowOverlapping)
    .map(([name, x]) => `${name} GC ${x.gc}, stall ${x.stall}`)
    .join("; ");
  return [
    `${label} median (p45–p55, ms): ${show(t.median)}`,
    `${label} slowest 1% (ms):      ${show(t.slowest1pc)}`,
    `${label} slowest 1% overlapping a pause ≥ 5 ms: ${o}; none: ${t.slowOverlappingNothing}/${t.slowest1pc.n}; started in second (of the scenario): ${Object.entries(
      t.slowBySecond,
    )
      .map(([second, n]) => `${second}: ${n}`)
      .join(", ")}`,
  ];
}
