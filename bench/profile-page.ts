/**
 * `npx tsx bench/profile-page.ts [renders]`: the staff page (`/staff`) rendered `renders` times
 * (default 200, after 20 unmeasured) by one signed-in staff member on the private stack with
 * HISTORY messages (default 100,000 over 1,000 players, 100 open chats: the bench's history seed).
 * Prints the page's HTML and RSC payload sizes, round trip p50 / p99 and the web process's CPU per
 * render; PROFILE=1 runs the web process under `--cpu-prof` and prints the functions with the most
 * self time (profile in bench/results/profiles/; build with `experimental.serverMinification: false`
 * for readable frames). HISTORY=0 renders a queue without the seeded chats (the rows' share of the
 * cost); SAVE=<prefix> keeps the page's HTML and RSC payload. Ports: BENCH_PORT_BASE (default 6281).
 */
import fs from "node:fs";
import path from "node:path";
import { connectPostgres } from "@/db/client";
import { startStack } from "../tests/support/stack";
import { printTopSelfTime } from "./cpu-profile";
import { createStaffAccount, request, seedHistory, signIn, stats } from "./path";
import { cpuSeconds } from "./scenarios";

const renders = Number(process.argv[2] ?? 200);
const messages = Number(process.env.HISTORY ?? 100_000);
const profiling = process.env.PROFILE === "1";
const startedAt = Date.now();
const dir = path.join(import.meta.dirname, "results", "profiles");
fs.mkdirSync(dir, { recursive: true });
const stack = await startStack(
  Number(process.env.BENCH_PORT_BASE ?? 6281),
  {},
  profiling ? ["--cpu-prof", `--cpu-prof-dir=${dir}`] : [],
);
const handle = connectPostgres(stack.postgres.url, 4);
try {
  const email = "profile-staff@floorline.test";
  await createStaffAccount(handle, email, "Profile staff");
  // HISTORY=0: no seeded chats, the page with (nearly) an empty queue, for the rows' share.
  if (messages > 0) await seedHistory(handle, messages, Math.max(1, Math.round(messages / 100)));
  const { cookie } = await signIn(stack.url, email);
  const page = (headers: Record<string, string> = {}, query = "") =>
    request(`${stack.url}/staff${query}`, { headers: { cookie, ...headers } });
  const html = await page();
  // What a client-side navigation fetches (Next answers a bare `rsc: 1` with a redirect to this).
  const rsc = await page({ rsc: "1" }, "?_rsc");
  if (html.status !== 200 || rsc.status !== 200)
    throw new Error(`/staff: HTTP ${html.status} / ${rsc.status} ${rsc.headers.location ?? ""}`);
  console.log(`HTML ${Buffer.byteLength(html.body)} B, RSC payload ${Buffer.byteLength(rsc.body)} B`);
  if (process.env.SAVE) {
    fs.writeFileSync(`${process.env.SAVE}.html`, html.body);
    fs.writeFileSync(`${process.env.SAVE}.rsc`, rsc.body);
  }
  for (let i = 0; i < 20; i++) await page();
  const samples: number[] = [];
  const cpuBefore = cpuSeconds(stack.web.pid);
  for (let i = 0; i < renders; i++) {
    const t = performance.now();
    const res = await page();
    if (res.status !== 200) throw new Error(`/staff: HTTP ${res.status}`);
    samples.push(performance.now() - t);
  }
  const cpu = cpuSeconds(stack.web.pid);
  const s = stats(samples);
  const cpuMs = cpu !== null && cpuBefore !== null ? (((cpu - cpuBefore) * 1000) / renders).toFixed(1) : "?";
  console.log(`${renders} renders: p50 ${s.p50} / p99 ${s.p99} / max ${s.max} ms, web CPU ${cpuMs} ms each`);
} finally {
  await handle.close();
  await stack.stop();
}

if (profiling) printTopSelfTime(dir, startedAt, 40);
