import { execFile } from "node:child_process";
import path from "node:path";
import { promisify } from "node:util";
import { expect, test } from "@playwright/test";
import { formatTable, runBench, runHistory, runStorm } from "../bench/path";

/**
 * `npm run bench` at toy size, so the harness cannot rot: every scenario runs against the
 * production build on a private stack and reports. Timings are printed, never asserted; what is
 * asserted is that each scenario produced a number and that nothing was lost, duplicated or gapped.
 */
test("bench harness: every scenario runs at toy size with nothing lost", async () => {
  test.setTimeout(240_000);
  const result = await runBench({
    basePort: Number(process.env.E2E_BENCH_PORT_BASE ?? 6271),
    clients: 30,
    staff: 2,
    // More players than one staff member may hold chats with (5 by default), as at full size.
    senders: 12,
    seconds: 3,
    warmSeconds: 1,
    throughput: [2],
    throughputSeconds: 2,
    baselineSeconds: 1,
    roundTrips: 5,
    manySockets: 20,
    fanOutRounds: 2,
    stormClients: 10,
    historyMessages: 2000,
    historyPlayers: 50,
  });
  console.log(formatTable(result));
  // A send the server never answered is counted apart, never as lost (on loopback at toy size it
  // should not happen either); what is lost keeps its ids.
  expect(result.integrity).toMatchObject({ lost: 0, unanswered: 0, duplicated: 0, seqGaps: 0, lostIds: [] });
  expect(result.integrity.lost).toBe(result.integrity.lostIds.length);
  expect(result.integrity.sent).toBeGreaterThan(0);
  // Every row is a measurement (memory per socket can be negative at toy size: it is noise there).
  for (const row of result.rows) expect(row.value, row.scenario).toMatch(/^-?\d/);
  // The scenarios beyond latency: all their clients served, nothing lost.
  // A refusal shows here with its status and reason (`failures`).
  expect(result.raw.staffToPlayer).toMatchObject({ lost: 0, failed: 0, unanswered: 0, lostIds: [] });
  expect(result.raw.manySockets).toMatchObject({ subscribed: 20, failed: 0 });
  // Every player's send during the outage acknowledged: otherwise its clients had nothing to catch up.
  expect(result.raw.reconnectStorm).toMatchObject({
    clients: 10,
    caughtUp: 10,
    complete: true,
    sends: { refused: 0, unanswered: 0 },
  });
});

/** A scenario run alone (`--only`): every other scenario's size 0. */
const alone = {
  clients: 0,
  staff: 0,
  senders: 0,
  seconds: 0,
  warmSeconds: 0,
  throughput: [],
  throughputSeconds: 0,
  baselineSeconds: 0,
  roundTrips: 0,
  manySockets: 0,
  fanOutRounds: 0,
  stormClients: 0,
  historyMessages: 0,
  historyPlayers: 0,
};

test("bench harness: the reconnect storm alone (--only storm) at toy size", async () => {
  test.setTimeout(240_000);
  const result = await runStorm({
    ...alone,
    basePort: Number(process.env.E2E_BENCH_PORT_BASE ?? 6271) + 20,
    staff: 2,
    senders: 12,
    stormClients: 30,
  });
  console.log(formatTable(result));
  for (const row of result.rows) expect(row.value, row.scenario).toMatch(/^-?\d/);
  expect(result.integrity).toMatchObject({ lost: 0, unanswered: 0 });
  const storm = result.raw.reconnectStorm as {
    spread: Record<string, { max: number }>;
    publishes: { retried: number; unanswered: number };
  };
  expect(storm).toMatchObject({ clients: 30, caughtUp: 30, complete: true, sends: { acknowledged: 12 } });
  // Each phase was timed, the close at the kill included.
  expect(Object.keys(storm.spread)).toEqual(["closed", "attempt", "connected", "authorized", "subscribed", "caughtUp"]);
  for (const [phase, { max }] of Object.entries(storm.spread)) expect(max, phase).toBeGreaterThan(0);
  // The players' sends while the server is down fail on the wire and go to the background retry:
  // the storm's own, not the run's.
  expect(storm.publishes.retried).toBeGreaterThan(0);
});

test("bench harness: the history reads alone (--only history) at toy size", async () => {
  test.setTimeout(240_000);
  // PROBE=1, as the diagnosis runs use it: the web's probe takes each thread read apart.
  const probe = process.env.PROBE;
  process.env.PROBE = "1";
  const result = await runHistory({
    ...alone,
    basePort: Number(process.env.E2E_BENCH_PORT_BASE ?? 6271) + 10,
    staff: 1,
    roundTrips: 5,
    historyMessages: 2000,
    historyPlayers: 50,
  }).finally(() => {
    if (probe === undefined) delete process.env.PROBE;
    else process.env.PROBE = probe;
  });
  console.log(formatTable(result));
  expect(result.rows.map((row) => row.scenario)).toEqual([
    expect.stringMatching(/^staff\.queue at 2,000 messages/),
    expect.stringMatching(/^staff page at 2,000 messages/),
    expect.stringMatching(/^thread latest page at 2,000 messages/),
    expect.stringMatching(/^thread older page at 2,000 messages/),
  ]);
  // The second pass, then the first one after start (warm-up is reported, not dropped), then the
  // very first request of its kind, the one that loads and compiles its code.
  for (const row of result.rows)
    expect(row.value, row.scenario).toMatch(
      /^\d[\d.]* ms \/ \d[\d.]* ms \(\d.*\); first \d[\d.]* ms \/ \d[\d.]* ms \(\d.*\); very first \d[\d.]* ms \(\d/,
    );
  // Every sample in order, so warm-up and periodic pauses can be told apart.
  expect(result.raw.history).toMatchObject({
    queue: { samples: expect.arrayContaining([expect.any(Number)]) },
    firstPass: { queue: { samples: expect.arrayContaining([expect.any(Number)]) } },
    veryFirst: { page: { samples: [expect.any(Number)] } },
  });
  // Each thread read taken apart by the probe (bench/request-parts.ts): its page's one statement timed.
  const latest = (
    result.raw.history as { latest: { n: number; parts: unknown[]; apart: { lessWaits: { n: number } } } }
  ).latest;
  expect(latest.parts).toHaveLength(latest.n);
  for (const part of latest.parts)
    expect(part).toMatchObject({
      server: expect.any(Number),
      db: expect.any(Number),
      q: expect.arrayContaining([expect.objectContaining({ name: "thread_page_with_reader", ms: expect.any(Number) })]),
    });
  expect(latest.apart.lessWaits.n).toBe(latest.n);
  // Read from a web process started after the seed, as a real server starts against a full
  // database: not the one that warmed up on an empty queue before it.
  const { webPid } = result.raw.history as { webPid?: { beforeSeed?: number; reads?: number } };
  expect(webPid?.reads).toEqual(expect.any(Number));
  expect(webPid?.reads).not.toBe(webPid?.beforeSeed);
});

/**
 * The scripts below each start two stacks of their own. Their limits guard against a hung child and
 * say nothing about speed: on a busy 2-core machine (load ~15) first-request.ts took 2.3 min of the
 * 150 s it had, and at load ~25 ab.ts and first-request.ts ran past it.
 */
const childTimeoutMs = 330_000;
const scriptTestTimeoutMs = 360_000;

// `npx tsx bench/ab.ts` at toy size: both sides this checkout's production build (here, where
// Playwright has built it), two stacks at once. Numbers are printed, never asserted; what is
// asserted is that every request was answered 200 and both sides reported.
test("bench/ab.ts runs both sides in alternated blocks and reports each side and their difference", async () => {
  test.setTimeout(scriptTestTimeoutMs);
  const root = path.resolve(import.meta.dirname, "..");
  const basePort = Number(process.env.E2E_BENCH_PORT_BASE ?? 6271) + 30;
  // staff.first: a first reply that takes a waiting chat, each block's chats opened before it;
  // staff.page: the staff page (a page has no Server-Timing); thread.page: a thread's latest page (REST).
  const kinds = ["chat.me", "chat.send", "staff.reply", "staff.first", "staff.page", "thread.page"];
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "bench/ab.ts"], {
    cwd: root,
    env: {
      ...process.env,
      BASE: root,
      BENCH_PORT_BASE: String(basePort),
      ROUNDS: "2",
      BLOCK: "2",
      WARMUP: "2",
      KINDS: kinds.join(","),
    },
    timeout: childTimeoutMs,
  });
  console.log(stdout);
  const lines = stdout.split("\n");
  const json = (prefix: string) => {
    const line = lines.find((l) => l.startsWith(`${prefix} {`));
    expect(line, prefix).toBeDefined();
    return JSON.parse(line?.slice(prefix.length + 1) ?? "null");
  };
  for (const kind of kinds) {
    for (const side of ["A", "B"]) {
      // Two rounds of two requests on each side, every one answered 200, each block's CPU read.
      const result = json(`${kind} ${side}`);
      expect(result).toMatchObject({ n: 4, failed: 0, blocks: 2 });
      for (const key of ["cpuMeanMs", "cpuBlockMedianMs", "roundTripP50"])
        expect(result[key], `${kind} ${side} ${key}`).toEqual(expect.any(Number));
      expect(result.serverP50, `${kind} ${side} serverP50`).toEqual(kind === "staff.page" ? null : expect.any(Number));
    }
    expect(json(`${kind} B − A`)).toMatchObject({
      median: expect.any(Number),
      mean: expect.any(Number),
      bLowerIn: expect.any(Number),
      bHigherIn: expect.any(Number),
      of: 2,
    });
  }
});

// `npx tsx bench/first-request.ts` at toy size, both sides this checkout: each side's web process
// restarted once, each kind's first request answered 200 and reported. Never a timing.
test("bench/first-request.ts restarts each side and reports each kind's first request", async () => {
  test.setTimeout(scriptTestTimeoutMs);
  const root = path.resolve(import.meta.dirname, "..");
  const kinds = ["chat.me", "/staff"];
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "bench/first-request.ts"], {
    cwd: root,
    env: {
      ...process.env,
      BASE: root,
      // ab's ports: Playwright runs one test at a time here (workers: 1).
      BENCH_PORT_BASE: String(Number(process.env.E2E_BENCH_PORT_BASE ?? 6271) + 30),
      RESTARTS: "1",
      WARM: "1",
      KINDS: kinds.join(","),
    },
    timeout: childTimeoutMs,
  });
  console.log(stdout);
  for (const kind of kinds)
    for (const side of ["A", "B"]) {
      const line = stdout.split("\n").find((l) => l.startsWith(`${kind} ${side} {`));
      expect(line, `${kind} ${side}`).toBeDefined();
      expect(JSON.parse(line?.slice(`${kind} ${side} `.length) ?? "null")).toMatchObject({
        firstRtt: [expect.any(Number)],
        firstCpuMs: [expect.any(Number)],
        warmRttP50: expect.any(Number),
      });
    }
});

// `npx tsx bench/thread-alloc.ts` at toy size, both sides this checkout, with the heap sampler on
// B: every read answered 200 (it throws otherwise), each side and kind reported, B's allocators
// printed. Never a number's size: at toy size there may be no GC at all.
test("bench/thread-alloc.ts reports each side's allocation per thread read and B's allocators", async () => {
  test.setTimeout(scriptTestTimeoutMs);
  const root = path.resolve(import.meta.dirname, "..");
  const { stdout } = await promisify(execFile)(process.execPath, ["--import", "tsx", "bench/thread-alloc.ts"], {
    cwd: root,
    env: {
      ...process.env,
      BASE: root,
      // ab's ports (one test at a time here); the inspector on B's web at + 9.
      BENCH_PORT_BASE: String(Number(process.env.E2E_BENCH_PORT_BASE ?? 6271) + 30),
      ROUNDS: "2",
      BLOCK: "3",
      WARMUP: "2",
      MESSAGES: "60",
      HEAP_SAMPLE: "1",
    },
    timeout: childTimeoutMs,
  });
  console.log(stdout);
  for (const kind of ["latest", "older"])
    for (const side of ["A", "B"]) {
      const line = stdout.split("\n").find((l) => l.startsWith(`${kind} ${side} {`));
      expect(line, `${kind} ${side}`).toBeDefined();
      expect(JSON.parse(line?.slice(`${kind} ${side} `.length) ?? "null")).toMatchObject({
        reads: 6,
        kbAllocatedPerRead: expect.any(Number),
        scavengesPer1000: expect.any(Number),
        serverMs: { p50: expect.any(Number), p99: expect.any(Number) },
      });
    }
  expect(stdout).toContain("B, sampled, by nearest frame of ours:");
});
