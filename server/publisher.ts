import { env, realtimeEndpoints } from "@/env";
import { createPublisher, type Publisher } from "./realtime/publisher";

const globalKey = Symbol.for("floorline.publisher");
const slot = globalThis as unknown as Record<symbol, Publisher | undefined>;

/** The app's one `pusher` SDK client: our realtime server, Soketi or hosted Pusher, by env. */
export function getPublisher(): Publisher {
  slot[globalKey] ??= createPublisher({
    appId: env.PUSHER_APP_ID,
    key: env.PUSHER_KEY,
    secret: env.PUSHER_SECRET,
    ...realtimeEndpoints().server,
  });
  return slot[globalKey];
}
