import { STAFF_CHANNEL, STAFF_PRESENCE } from "@/protocol/channels";

// The names live in protocol/ (the browser uses them too); re-exported for the server's callers.
export {
  EVENTS,
  playerChannel,
  SOCKET_ID_HEADER,
  STAFF_CHANNEL,
  STAFF_PRESENCE,
  viewingChannel,
} from "@/protocol/channels";

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
