/**
 * Channel and event names, exactly as the club's clients know them. Shared by the browser and
 * the server; who may subscribe where is the server's rule (server/chat/channels.ts).
 */
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
  newGreMessage: "new-gre-message",
  playerConfirmation: "player-confirmation",
  chatRequestUpdated: "chat-request-updated",
  messageStatus: "message-status",
  /** Ours, not the club's: a request has waited longer than the escalation time. */
  chatRequestEscalated: "chat-request-escalated",
  /** Ours: a staff-only note was added to a request (staff channel only; carries no text). */
  chatNoteAdded: "chat-note-added",
  /** Ours: events of this channel were dropped on the way (server/chat/gateway.ts); reload from the database. */
  catchUp: "catch-up",
  typing: "client-typing",
} as const;

/** tRPC requests carry the caller's socket id here, so its own publish is not echoed to it. */
export const SOCKET_ID_HEADER = "x-pusher-socket-id";
