/**
 * `npx tsx bench/profile-page.ts [renders]`: the staff page (`/staff`) rendered `renders` times
 * (default 200, after 20 unmeasured) by one signed-in staff member on the private stack with
 * HISTORY messages (default 100,000 over 1,000 players, 100 open chats: the bench's history seed).
 * Prints the page's HTML and RSC payload sizes, round trip p50 / p99 and the web process's CPU per
 * render; PROFILE=1 runs the web process under `--cpu-prof` and prints the functions with the most
 * self time (profile in bench/results/profiles/; build with `experimental.serverMinification: false`
 * for readable frames). Ports: BENCH_PORT_BASE (default 6281).
 */
import { randomUUID } from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { hashPassword } from "better-auth/crypto";
import { connectPostgres } from "@/db/client";
import { account, staff, user } from "@/db/schema";
import { startStack } from "../tests/support/stack";
import { PASSWORD, request, seedHistory, signIn, stats } from "./path";
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
  const id = randomUUID();
  const email = "profile-staff@floorline.test";
  await handle.db.insert(user).values({ id, name: "Profile staff", email, emailVerified: true, role: "staff" });
  await handle.db.insert(account).values({
    id: randomUUID(),
    accountId: id,
    providerId: "credential",
    userId: id,
    password: await hashPassword(PASSWORD),
  });
  await handle.db.insert(staff).values({ userId: id, displayName: "Profile staff" });
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

if (profiling) {
  // One profile per thread: the busiest is the server's.
  type Node = { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number };
  const busy = (nodes: Node[]) =>
    nodes.filter((n) => n.callFrame.functionName !== "(idle)").reduce((sum, n) => sum + (n.hitCount ?? 0), 0);
  const written = fs
    .readdirSync(dir)
    .filter((f) => f.endsWith(".cpuprofile") && fs.statSync(path.join(dir, f)).mtimeMs >= startedAt)
    .map((f) => ({
      file: path.join(dir, f),
      nodes: (JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) as { nodes: Node[] }).nodes,
    }))
    .sort((a, b) => busy(b.nodes) - busy(a.nodes));
  const picked = written[0];
  if (!picked) throw new Error("no profile written");
  const total = picked.nodes.reduce((n, x) => n + (x.hitCount ?? 0), 0);
  const byFrame = new Map<string, number>();
  for (const n of picked.nodes) {
    const where = n.callFrame.url.replace(/^.*node_modules\//, "").replace(/^.*\.next\//, ".next/");
    const key = `${n.callFrame.functionName || "(anonymous)"} ${where}:${n.callFrame.lineNumber + 1}`;
    byFrame.set(key, (byFrame.get(key) ?? 0) + (n.hitCount ?? 0));
  }
  console.log(`profile: ${path.relative(process.cwd(), picked.file)} (${total} samples); self time, top 40:`);
  for (const [key, hits] of [...byFrame].sort((a, b) => b[1] - a[1]).slice(0, 40)) {
    console.log(`${((100 * hits) / total).toFixed(1).padStart(5)} %  ${key}`);
  }
}
