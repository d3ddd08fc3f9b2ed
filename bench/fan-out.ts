/**
 * Fan-out alone: one event to SUBSCRIBERS sockets of our realtime server (the bundle `npm run
 * build` makes, as `npm start` runs it) next to as many clients of a bare `ws` server broadcasting
 * the same frame, both in their own process and both open at once, ROUNDS alternated rounds each.
 * Prints first → last and publish → last p50 / p90 and each server's CPU per event. No app, no
 * database: for profiling the broadcast (PROFILE=<dir>: `node --cpu-prof` on the realtime server,
 * written when it exits). bench/path.ts measures the same through the whole app.
 *
 *   npm run build && npx tsx bench/fan-out.ts
 *   SUBSCRIBERS=5000 ROUNDS=40 PROFILE=/tmp/prof BENCH_PORT_BASE=7670 npx tsx bench/fan-out.ts
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomUUID } from "node:crypto";
import os from "node:os";
import Pusher from "pusher";
import type WebSocket from "ws";
import { channelAuth } from "@/server/realtime/signature";
import { REALTIME_BUNDLE } from "../scripts/build-realtime";
import { pusherSocket, request, sleep } from "./path";
import { APP } from "./realtime";
import { arrivalLog, fanOut, floorSockets } from "./scenarios";

const num = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const SUBSCRIBERS = num("SUBSCRIBERS", 1000);
const ROUNDS = num("ROUNDS", 30);
const PORT = num("BENCH_PORT_BASE", 6261) + 1;
const CHANNEL = "private-staff-portal";

/** The bare side: what bench/floor.ts broadcasts, without its INSERT. */
const BARE = `
import http from "node:http";
import { WebSocketServer } from "ws";
const server = http.createServer((req, res) => {
  let body = "";
  req.on("data", (c) => { body += c; });
  req.on("end", () => {
    const frame = JSON.stringify({ event: "chat-message-received", channel: "${CHANNEL}", data: body });
    for (const client of wss.clients) client.send(frame);
    res.writeHead(200).end("{}");
  });
});
const wss = new WebSocketServer({ server });
server.listen(${PORT + 1}, "127.0.0.1", () => console.log("bare on"));
`;

function start(args: string[], env: NodeJS.ProcessEnv, ready: string) {
  const child = spawn(process.execPath, args, { env, stdio: ["ignore", "pipe", "inherit"] });
  return new Promise<ChildProcess>((resolve, reject) => {
    child.stdout?.on("data", (d) => String(d).includes(ready) && resolve(child));
    child.on("exit", (code) => reject(new Error(`${args.at(-1)?.slice(0, 40)} exited ${code}`)));
  });
}

/** A staff-channel message event of the size the app sends (~1 KB). */
function payload(id: string) {
  const at = new Date().toISOString();
  const request = { id: randomUUID(), playerId: 12345, status: "waiting", assignedStaffId: null, openedAt: at };
  return JSON.stringify({
    id,
    seq: 12,
    requestId: request.id,
    playerId: 12345,
    sender: "player",
    senderName: "Player 12345",
    message: "fan-out",
    status: "sent",
    timestamp: at,
    request: { ...request, lastMessageAt: at, lastMessagePreview: "fan-out ".repeat(20), unread: 3 },
    pad: "x".repeat(400),
  });
}

const profile = process.env.PROFILE;
const realtime = await start(
  [...(profile ? ["--cpu-prof", `--cpu-prof-dir=${profile}`] : []), REALTIME_BUNDLE],
  {
    ...process.env,
    PUSHER_APP_ID: APP.appId,
    PUSHER_KEY: APP.key,
    PUSHER_SECRET: APP.secret,
    REALTIME_PORT: String(PORT),
    REALTIME_MAX_CONNECTIONS: String(SUBSCRIBERS + 100),
  },
  "server on",
);
const bare = await start(["--input-type=module", "-e", BARE], process.env, "bare on");
const idOf = (text: string) => (JSON.parse(JSON.parse(text).data) as { id: string }).id;
const ours = arrivalLog();
const theirs = arrivalLog();
const oursFrame = ours.frames(idOf);
const url = `ws://127.0.0.1:${PORT}/app/${APP.key}?protocol=7&client=bench&version=1`;
const authorize = async (socketId: string) => channelAuth(APP.key, APP.secret, socketId, CHANNEL);
const sockets: WebSocket[] = [];
for (let i = 0; i < SUBSCRIBERS; i += 100) {
  const n = Math.min(100, SUBSCRIBERS - i);
  sockets.push(
    ...(await Promise.all(
      Array.from({ length: n }, () => pusherSocket(url, CHANNEL, authorize, undefined, oursFrame)),
    )),
  );
}
sockets.push(...(await floorSockets(PORT + 1, SUBSCRIBERS, theirs.frames(idOf))));
const sdk = new Pusher({ ...APP, host: "127.0.0.1", port: String(PORT), useTLS: false });
const result = await fanOut({
  subscribers: SUBSCRIBERS,
  rounds: ROUNDS,
  sides: {
    ours: {
      arrivals: ours.arrivals,
      pid: realtime.pid,
      publish: async () => {
        const id = randomUUID();
        await sdk.trigger(CHANNEL, "chat-message-received", payload(id));
        return id;
      },
    },
    bare: {
      arrivals: theirs.arrivals,
      pid: bare.pid,
      publish: async () => {
        const id = randomUUID();
        await request(`http://127.0.0.1:${PORT + 1}/`, { method: "POST", body: payload(id) });
        return id;
      },
    },
  },
});
for (const [name, r] of Object.entries(result)) {
  console.log(
    `${name}: first → last p50 ${r.spread.p50} ms, p99 ${r.spread.p99} ms; publish → last p50 ${r.total.p50} ms; CPU per event ${r.cpuMs} ms`,
  );
}
if (result.ours && result.bare) {
  const load = os.loadavg().map((x) => x.toFixed(2));
  console.log(
    `ratio first → last p50 ${(result.ours.spread.p50 / result.bare.spread.p50).toFixed(2)}, load ${load.join(" ")}`,
  );
}
for (const ws of sockets) ws.terminate();
bare.kill("SIGTERM");
// SIGINT: the server's own shutdown, which exits and so writes the profile.
realtime.kill("SIGINT");
await sleep(profile ? 3000 : 500);
process.exit(0);
