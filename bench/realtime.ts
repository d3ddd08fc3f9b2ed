/** What the benchmarks share: our realtime server in its own process, and raw subscribed sockets. */
import { type ChildProcess, spawn } from "node:child_process";
import WebSocket from "ws";
import { channelAuth } from "@/server/realtime/signature";

export const APP = { appId: "bench", key: "bench-key", secret: "bench-secret" };

export function startRealtime(port: number, maxConnections: number): Promise<ChildProcess> {
  const child = spawn("node_modules/.bin/tsx", ["server/realtime/main.ts"], {
    env: {
      ...process.env,
      PUSHER_APP_ID: APP.appId,
      PUSHER_KEY: APP.key,
      PUSHER_SECRET: APP.secret,
      REALTIME_PORT: String(port),
      REALTIME_MAX_CONNECTIONS: String(maxConnections),
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
