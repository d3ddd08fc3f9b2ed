/**
 * `npm start` and `npm run dev`: our realtime server (unless PUSHER_HOST points elsewhere) and
 * the web app, started together and stopped together. `start` builds first when the build is
 * missing or older than the sources, so a newcomer's first `npm start` just works.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { secretsForChildren } from "../server/secrets";

const mode = process.argv[2] === "dev" ? "dev" : "start";
const root = process.cwd();
const bin = (name: string) => path.join(root, "node_modules", ".bin", name);
const children: ChildProcess[] = [];
let stopping = false;

function stopAll(code: number) {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill("SIGTERM");
  // Give children a moment to close sockets and the embedded database cleanly.
  const deadline = setTimeout(() => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    process.exit(code);
  }, 5000);
  deadline.unref();
  Promise.all(children.map((c) => (c.exitCode === null ? new Promise((r) => c.once("exit", r)) : null))).then(() =>
    process.exit(code),
  );
}

function run(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
  const child = spawn(command, args, { stdio: "inherit", env });
  children.push(child);
  child.on("exit", (code, signal) => {
    if (!stopping) {
      console.error(`[floorline] ${name} stopped (${signal ?? `exit ${code}`}); stopping the rest.`);
      stopAll(code || 1);
    }
  });
  return child;
}

function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name.startsWith(".")) continue;
    const full = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSourceMtime(full) : fs.statSync(full).mtimeMs);
  }
  return newest;
}

function buildIsStale() {
  const buildId = path.join(root, ".next", "BUILD_ID");
  if (!fs.existsSync(buildId)) return true;
  const built = fs.statSync(buildId).mtimeMs;
  const sources = ["app", "server", "db", "env.ts", "next.config.ts", "package-lock.json", "instrumentation.ts"];
  return sources.some((s) => {
    const p = path.join(root, s);
    if (!fs.existsSync(p)) return false;
    return fs.statSync(p).isDirectory() ? newestSourceMtime(p) > built : fs.statSync(p).mtimeMs > built;
  });
}

async function waitForHealth(url: string, timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    try {
      if ((await fetch(url)).ok) return;
    } catch {}
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`realtime server did not become healthy at ${url}`);
}

// Secrets for both children: a deployment's are checked, the embedded mode's generated and kept.
try {
  Object.assign(process.env, secretsForChildren(process.env));
} catch (err) {
  console.error(`[floorline] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}

process.on("SIGINT", () => stopAll(0));
process.on("SIGTERM", () => stopAll(0));

if (mode === "start" && buildIsStale()) {
  console.log("[floorline] building the app (first start or sources changed)…");
  const built = spawnSync(bin("next"), ["build"], { stdio: "inherit" });
  if (built.status !== 0) process.exit(built.status ?? 1);
}

// Our own realtime server, unless env points the app at Soketi (PUSHER_HOST) or hosted Pusher (PUSHER_CLUSTER).
if (!process.env.PUSHER_HOST && !process.env.PUSHER_CLUSTER) {
  const host = process.env.REALTIME_HOST || "127.0.0.1";
  const port = process.env.REALTIME_PORT || "6001";
  run("realtime server", bin("tsx"), ["server/realtime/main.ts"]);
  await waitForHealth(`http://${host}:${port}/health`, 15_000).catch((err) => {
    console.error(`[floorline] ${err.message}`);
    stopAll(1);
  });
}

const port = process.env.PORT || "3000";
// Next.js behind our front door (client address from TRUSTED_PROXIES, security headers).
run("web app", bin("tsx"), ["server/http/serve.ts", ...(mode === "dev" ? ["--dev"] : [])], {
  ...process.env,
  PORT: port,
});
