import { STAFF_CHANNEL, STAFF_PRESENCE } from "@/protocol/channels";
import { playerId as playerIdSchema } from "@/protocol/inputs";

// The names live in protocol/ (the browser uses them too); re-exported for the server's callers.
export {
  EVENTS,
  playerChannel,
  SOCKET_ID_HEADER,
  STAFF_CHANNEL,
  STAFF_PRESENCE,
  viewingChannel,
} from "@/protocol/channels";

/** What a channel name means, or null when it is not exactly one of ours. */
export type ChannelTarget =
  | { kind: "staff" }
  | { kind: "player"; playerId: number }
  | { kind: "viewing"; playerId: number };

/**
 * Reads a channel name strictly: the Player ID must be canonical (`private-player-29`, never
 * `private-player-029`), so every player has exactly one channel name and nothing else is granted.
 */
export function parseChannel(channel: string): ChannelTarget | null {
  if (channel === STAFF_CHANNEL || channel === STAFF_PRESENCE) return { kind: "staff" };
  const match = /^(private-player|presence-viewing)-(.+)$/.exec(channel);
  if (!match) return null;
  const id = playerIdSchema.safeParse(match[2]);
  if (!id.success) return null;
  return match[1] === "private-player" ? { kind: "player", playerId: id.data } : { kind: "viewing", playerId: id.data };
}

/**
 * No one's channel: the warm-up (server/http/warm-up.ts) publishes a synthetic message's events
 * here, so the publish path is compiled before real sends. Private, so the realtime server lets
 * only a signed subscription in, and parseChannel reads it as none of ours, so /api/realtime/auth
 * (maySubscribe, access.ts) signs it for no one.
 */
export const WARM_UP_CHANNEL = "private-floorline-warm-up";
