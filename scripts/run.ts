/**
 * `npm start` and `npm run dev`: our realtime server (unless PUSHER_HOST points elsewhere) and
 * the web app under one supervisor (`scripts/supervise.ts`): a child that dies is restarted with
 * back-off while the other keeps serving; SIGINT / SIGTERM stop both. `start` builds first when
 * the build is missing or older than the sources, so a newcomer's first `npm start` just works.
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { secretsForChildren } from "../server/secrets";
import { buildRealtime, REALTIME_BUNDLE } from "./build-realtime";
import { createSupervisor } from "./supervise";

const mode = process.argv[2] === "dev" ? "dev" : "start";
const root = process.cwd();
const bin = (name: string) => path.join(root, "node_modules", ".bin", name);

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
  if (!fs.existsSync(buildId) || !fs.existsSync(REALTIME_BUNDLE)) return true;
  const built = fs.statSync(buildId).mtimeMs;
  const sources = [
    "app",
    "protocol",
    "server",
    "db",
    "env.ts",
    "next.config.ts",
    "package-lock.json",
    "instrumentation.ts",
  ];
  return sources.some((s) => {
    const p = path.join(root, s);
    if (!fs.existsSync(p)) return false;
    return fs.statSync(p).isDirectory() ? newestSourceMtime(p) > built : fs.statSync(p).mtimeMs > built;
  });
}

// Secrets for both children: a deployment's are checked, the embedded mode's generated and kept.
try {
  Object.assign(process.env, secretsForChildren(process.env));
} catch (err) {
  console.error(`[floorline] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}

const supervisor = createSupervisor();
process.on("SIGINT", () => supervisor.stop(0));
process.on("SIGTERM", () => supervisor.stop(0));

if (mode === "start" && buildIsStale()) {
  console.log("[floorline] building the app (first start or sources changed)…");
  const built = spawnSync(bin("next"), ["build"], { stdio: "inherit" });
  if (built.status !== 0) process.exit(built.status ?? 1);
  await buildRealtime();
}

try {
  // Our own realtime server, unless env points the app at Soketi (PUSHER_HOST) or hosted Pusher (PUSHER_CLUSTER).
  if (!process.env.PUSHER_HOST && !process.env.PUSHER_CLUSTER) {
    const host = process.env.REALTIME_HOST || "127.0.0.1";
    const port = process.env.REALTIME_PORT || "6001";
    // One process (node itself, not the tsx wrapper): the pid we supervise is the one holding the
    // port, so a restart never races an orphan for it. `start` runs the bundle `npm run build`
    // made (scripts/build-realtime.ts): it answers again sooner after a restart.
    await supervisor.start({
      name: "realtime server",
      command: process.execPath,
      args: mode === "dev" ? ["--import", "tsx", "server/realtime/main.ts"] : [REALTIME_BUNDLE],
      listens: { host, port: Number(port) },
    });
  }

  const port = process.env.PORT || "3000";
  // Our front door, the API routes and Next.js's pages (server/http/serve.ts), as one node
  // process like the realtime server.
  await supervisor.start({
    name: "web app",
    command: process.execPath,
    // In dev, Next reloads pages itself, but the API routes are ours (serve.ts answers them from
    // the sources through tsx), so a change to the server's code restarts the process. (Node 20
    // mishandles repeated `--watch-path=x`: each copy starts one more watcher; `--watch-path x` does not.)
    args:
      mode === "dev"
        ? [
            ...["server", "protocol", "db", "env.ts"].flatMap((p) => ["--watch-path", p]),
            "--import",
            "tsx",
            "server/http/serve.ts",
            "--dev",
          ]
        : ["--import", "tsx", "server/http/serve.ts"],
    env: { ...process.env, PORT: port },
    listens: { host: "127.0.0.1", port: Number(port) },
  });
} catch {
  // The supervisor has logged why and is stopping everything.
}
