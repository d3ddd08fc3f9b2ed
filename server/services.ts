import type { ChatNotifications } from "./chat/actions";
import { pusherGateway, type RealtimeGateway } from "./chat/gateway";
import { getPublisher } from "./publisher";

/** Process-wide wiring of the chat's outside world, built from env on first use. */
const slot = globalThis as unknown as Record<symbol, unknown>;
const gatewayKey = Symbol.for("floorline.realtime-gateway");

export function getRealtimeGateway(): RealtimeGateway {
  slot[gatewayKey] ??= pusherGateway(getPublisher());
  return slot[gatewayKey] as RealtimeGateway;
}

export function getChatNotifications(): ChatNotifications | undefined {
  return undefined;
}
