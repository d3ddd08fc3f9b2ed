import { playerId as playerIdSchema } from "./inputs";

/** Channel names and event names, exactly as the club's clients know them. */
export const STAFF_CHANNEL = "private-staff-portal";
export const STAFF_PRESENCE = "presence-staff";
export const playerChannel = (playerId: number) => `private-player-${playerId}`;
/**
 * Who has player N's conversation on screen: staff while it is open (no push about what they
 * are reading) and the player. Typing is a client event here, named by the presence member.
 */
export const viewingChannel = (playerId: number) => `presence-viewing-${playerId}`;

export const EVENTS = {
  newChatRequest: "new-chat-request",
  chatMessageReceived: "chat-message-received",
  newPlayerMessage: "new-player-message",
  newGreMessage: "new-gre-message",
  playerConfirmation: "player-confirmation",
  chatRequestUpdated: "chat-request-updated",
  messageStatus: "message-status",
  /** Ours, not the club's: a request has waited longer than the escalation time. */
  chatRequestEscalated: "chat-request-escalated",
  typing: "client-typing",
} as const;

/** tRPC requests carry the caller's socket id here, so its own publish is not echoed to it. */
export const SOCKET_ID_HEADER = "x-pusher-socket-id";

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
