/** Channel names and event names, exactly as the club's clients know them. */
export const STAFF_CHANNEL = "private-staff-portal";
export const STAFF_PRESENCE = "presence-staff";
export const playerChannel = (playerId: number) => `private-player-${playerId}`;
/** Staff join this while a conversation is on their screen: no push about what they are reading. */
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

export type Subscriber = { isStaff: boolean; playerId: number | null };

/**
 * Who may listen where. The old system's public channels let anyone read any chat; here a
 * player hears only their own channel, and staff hear the staff channels and any player's.
 */
export function maySubscribe(who: Subscriber, channel: string): boolean {
  if (channel === STAFF_CHANNEL || channel === STAFF_PRESENCE) return who.isStaff;
  if (/^presence-viewing-\d+$/.test(channel)) return who.isStaff;
  const match = /^private-player-(\d+)$/.exec(channel);
  if (!match) return false;
  return who.isStaff || (who.playerId !== null && who.playerId === Number(match[1]));
}
