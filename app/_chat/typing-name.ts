import type { Channel, PresenceChannel } from "pusher-js";

type Member = { info?: { name?: unknown; side?: unknown } } | null;

/**
 * The name to show for a `client-typing` event: the sender as the server signed them into the
 * presence channel (the realtime server puts their member id on the event), never the event's
 * own payload, which the typing client writes. Null for our own side or an unknown sender.
 */
export function typingNameOf(
  channel: Channel,
  metadata: { user_id?: string } | undefined,
  mySide: "player" | "staff",
): string | null {
  const members = (channel as PresenceChannel).members;
  if (!members || !metadata?.user_id) return null;
  const member = members.get(metadata.user_id) as Member;
  const name = member?.info?.name;
  if (typeof name !== "string" || member?.info?.side === mySide) return null;
  return name.slice(0, 60);
}
