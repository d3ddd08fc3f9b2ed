import { realtimeConfigFromEnv } from "./config";
import { createRealtimeServer } from "./server";

// `npm run realtime`: our Pusher-protocol server as its own process.
let server: ReturnType<typeof createRealtimeServer>;
try {
  const config = realtimeConfigFromEnv();
  server = createRealtimeServer(config);
  const { port } = await server.start();
  console.log(`[realtime] Pusher protocol 7 server on ws://${config.host}:${port}/app/${config.key}`);
} catch (err) {
  console.error(`[realtime] ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}

let closing = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, async () => {
    if (closing) return;
    closing = true;
    await server.stop();
    process.exit(0);
  });
}
