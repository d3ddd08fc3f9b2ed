import type { Db } from "@/db/client";
import { env, realtimeEndpoints } from "@/env";
import type { ChatNotifications } from "./chat/actions";
import { pusherGateway, type RealtimeGateway } from "./chat/gateway";
import { createChatNotifications } from "./notify/chat-notifications";
import { oneSignalConfig } from "./notify/config";
import { createNotifierFromEnv } from "./notify/notifier";
import { staffPublicId } from "./notify/push-identity";
import { getPublisher } from "./publisher";

/** Process-wide wiring of the chat's outside world, built from env on first use. */
const slot = globalThis as unknown as Record<symbol, unknown>;
const gatewayKey = Symbol.for("floorline.realtime-gateway");

export function getRealtimeGateway(): RealtimeGateway {
  // Keys for ours (and Soketi, which ignores fields it does not know); hosted Pusher documents none.
  // Hosted Pusher is 50–100 ms away: more lanes, or ten events a round trip per lane cap delivery.
  const hosted = realtimeEndpoints().mode === "cluster";
  slot[gatewayKey] ??= pusherGateway(getPublisher(), { idempotencyKeys: !hosted, lanes: hosted ? 16 : 2 });
  return slot[gatewayKey] as RealtimeGateway;
}

/**
 * Shutdown: resolves once the gateway (if this process built one) has nothing on the wire, waiting
 * or held, or after `ms`. Sends are answered before their events are delivered (gateway.ts), so a
 * process stopped right after an answer would otherwise drop them; past `ms` (the realtime server
 * is down) clients catch up by seq.
 */
export async function realtimeFlushed(ms: number): Promise<void> {
  const gateway = slot[gatewayKey] as RealtimeGateway | undefined;
  if (!gateway) return;
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([gateway.idle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)))]);
  clearTimeout(timer);
}

const notificationsKey = Symbol.for("floorline.chat-notifications");

/** Staff push through OneSignal; a no-op (with one log line) when it is not configured. */
export function getChatNotifications(db: Db): ChatNotifications {
  slot[notificationsKey] ??= createChatNotifications({
    db,
    notifier: createNotifierFromEnv(process.env),
    realtime: getRealtimeGateway(),
    appUrl: env.APP_URL,
    pushIdOf: staffPublicId,
    showPlayerDetails: oneSignalConfig().showPlayerDetails,
  });
  return slot[notificationsKey] as ChatNotifications;
}
