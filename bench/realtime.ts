/** What the benchmarks share: our realtime server in its own process, and raw subscribed sockets. */
import { type ChildProcess, spawn } from "node:child_process";
import WebSocket from "ws";
import { channelAuth } from "@/server/realtime/signature";

export const APP = { appId: "bench", key: "bench-key", secret: "bench-secret" };

export function startRealtime(
  port: number,
  maxConnections: number,
  env: Record<string, string> = {},
): Promise<ChildProcess> {
  const child = spawn("node_modules/.bin/tsx", ["server/realtime/main.ts"], {
    env: {
      ...process.env,
      PUSHER_APP_ID: APP.appId,
      PUSHER_KEY: APP.key,
      PUSHER_SECRET: APP.secret,
      REALTIME_PORT: String(port),
      REALTIME_MAX_CONNECTIONS: String(maxConnections),
      ...env,
    },
    stdio: ["ignore", "pipe", "inherit"],
  });
  return new Promise((resolve, reject) => {
    child.stdout?.on("data", (d) => String(d).includes("server on") && resolve(child));
    child.on("exit", (code) => reject(new Error(`realtime exited ${code}`)));
  });
}

/** A raw client, connected and (unless `channel` is null) subscribed with a valid signature. */
export async function socket(port: number, channel: string | null, onEvent?: (event: string, data: string) => void) {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/app/${APP.key}?protocol=7&client=bench&version=1`);
  await new Promise<void>((resolve, reject) => {
    ws.once("error", reject);
    ws.on("message", (raw) => {
      const msg = JSON.parse(String(raw));
      if (msg.event === "pusher:connection_established") {
        const { socket_id } = JSON.parse(msg.data);
        if (!channel) return resolve();
        ws.send(
          JSON.stringify({
            event: "pusher:subscribe",
            data: { channel, auth: channelAuth(APP.key, APP.secret, socket_id, channel) },
          }),
        );
      } else if (msg.event === "pusher_internal:subscription_succeeded") resolve();
      else onEvent?.(msg.event, msg.data);
    });
  });
  return ws;
}

/**
 * CLUSTER=1: two realtime processes on Redis (REDIS_URL, default the local one) under a key
 * prefix of this run; otherwise one process with the default local adapter. Returns the ports
 * to publish to and to connect clients to (different nodes in a cluster, so every event crosses).
 */
export async function startRealtimeSetup(port: number, maxConnections: number) {
  if (process.env.CLUSTER !== "1") {
    const child = await startRealtime(port, maxConnections);
    return { publishPort: port, clientPort: port, ports: [port], children: [child], label: "1 node (local adapter)" };
  }
  const env = {
    REALTIME_ADAPTER: "redis",
    REDIS_URL: process.env.REDIS_URL ?? "redis://127.0.0.1:6379",
    REDIS_PREFIX: `floorline-bench:${Date.now()}:`,
  };
  const children = [await startRealtime(port, maxConnections, env), await startRealtime(port + 1, maxConnections, env)];
  return {
    publishPort: port,
    clientPort: port + 1,
    ports: [port, port + 1],
    children,
    label: "2 nodes on Redis (publish → node A, clients on node B)",
  };
}
