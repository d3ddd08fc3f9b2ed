/**
 * The web server `npm start` / `npm run dev` run: our front door (front-door.ts: the client
 * address from TRUSTED_PROXIES, security headers), then the API routes answered here
 * (api-routes.ts, node-bridge.ts) and every other path by Next.js. `tsx server/http/serve.ts [--dev]`.
 */
import type http from "node:http";
// Before Next.js loads, which replaces the global Date (native-date.ts).
import { nativeDate, restoreNativeDate } from "./native-date";

const dev = process.argv.includes("--dev");
// Before Next.js and the settings load: `next start` / `next dev` set it the same way.
(process.env as Record<string, string>).NODE_ENV ??= dev ? "development" : "production";

const { default: next } = await import("next");
const { env } = await import("@/env");
const { frontDoor } = await import("./front-door");
const { serveApi, pathOf } = await import("./node-bridge");
const { httpDeps } = await import("./deps");
const { warmUp } = await import("./warm-up");
const { oneAtATimeServer } = await import("./one-at-a-time");
const { POOL_MAX } = await import("@/db/client");
const { realtimeFlushed } = await import("../services");
const { default: nextConfig } = await import("../../next.config");

const app = next({ dev, dir: process.cwd(), port: env.PORT });
const handle = app.getRequestHandler();
await app.prepare();
const door = frontDoor({ proxies: env.TRUSTED_PROXIES, dev });

// Requests being answered: a stop lets them finish (and queue their events) before the flush.
const inProgress = new Set<http.ServerResponse>();
const settled: Array<() => void> = [];
let stopping = false;
/**
 * Node keeps serving a keep-alive connection that was busy when the server closed: its client sends
 * the next request on it, which the exit then cuts off. Answered with `Connection: close`, the
 * client opens a new connection instead, refused here, and takes it elsewhere or retries.
 */
const lastOnItsConnection = (res: http.ServerResponse) => {
  if (!res.headersSent) res.setHeader("connection", "close");
};
const answer: http.RequestListener = (req, res) => {
  inProgress.add(res);
  if (stopping) lastOnItsConnection(res);
  res.once("close", () => {
    inProgress.delete(res);
    if (inProgress.size === 0) for (const wake of settled.splice(0)) wake();
  });
  door(req, res);
  if (pathOf(req.url).startsWith("/api/")) void serveApi(req, res, httpDeps);
  else void handle(req, res);
};
// Each connection's requests one at a time, and a connection that stalls closed (one-at-a-time.ts).
const server = oneAtATimeServer(answer);
// The dev server's hot reload (and nothing else) upgrades to a WebSocket here.
const upgrade = app.getUpgradeHandler();
server.on("upgrade", (req, socket, head) => void upgrade(req, socket, head));
// Warm before listening, so whatever waits for this port (the supervisor, a load balancer) sends
// traffic only to a warm process. Dev compiles pages on demand: warming there would only be slower.
if (!dev) {
  await warmUp(answer, httpDeps, {
    poolSize: POOL_MAX,
    pages: ["/sign-in"],
    signedInPages: { staff: ["/staff"], player: ["/player"] },
  });
}
// After the warm-up: the page runtimes it loaded installed Next.js's Date wrapper again.
restoreNativeDate(nativeDate, nextConfig);
server.listen(env.PORT, () => console.log(`[floorline] web app on http://localhost:${env.PORT}`));

/** Resolves once no request is being answered, or after `ms`. */
const requestsDone = (ms: number) =>
  new Promise<void>((resolve) => {
    if (inProgress.size === 0) return resolve();
    settled.push(resolve);
    setTimeout(resolve, ms).unref();
  });

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    // Ctrl-C reaches `npm start`'s whole process group and the supervisor sends SIGTERM too: one stop.
    if (stopping) return;
    stopping = true;
    console.log(`[floorline] stopping: ${inProgress.size} request(s) in progress`);
    // No new connections, idle keep-alive ones close now, and busy ones after their answer.
    server.close();
    server.closeIdleConnections();
    for (const res of inProgress) lastOnItsConnection(res);
    // A request in progress may still store a message and queue its events (gateway.ts): let it
    // finish, then let every queued event leave, each for at most 2 s (the supervisor kills after 5 s).
    void requestsDone(2_000)
      .then(() => realtimeFlushed(2_000))
      .then(() => app.close())
      .finally(() => process.exit(0));
  });
}
