import type { PushMessage } from "./onesignal";

/**
 * The pushes Floorline sends to staff. Pure: the caller (the chat domain, after its commit)
 * decides who receives them, by OneSignal external id.
 */

/** Longest body text; lock screens show two or three lines at most. */
export const PREVIEW_MAX_CHARS = 120;
const NAME_MAX_CHARS = 40;

/** A chat alert delivered after this long is noise: the player has left or someone answered. */
export const CHAT_PUSH_TTL_SECONDS = 15 * 60;

type Player = { requestId: string; playerId: number | string; playerName: string; appUrl: string };

/** A player opened a chat: everyone accepting chats hears about it. */
export function newRequestNotification(
  input: Player & { preview: string; staffExternalIds: readonly string[] },
): PushMessage {
  return {
    kind: "new-request",
    externalIds: input.staffExternalIds,
    heading: `New chat: ${who(input)}`,
    contents: clip(input.preview) || "Sent a message",
    ...common(input, "new-request"),
    dedupeKey: `new-request:${input.requestId}`,
  };
}

/**
 * A player wrote into a chat a staff member holds: only that staff member. With `messageId`,
 * the same message never produces two pushes.
 */
export function newMessageNotification(
  input: Player & { preview: string; staffExternalId: string; messageId?: string },
): PushMessage {
  return {
    kind: "new-message",
    externalIds: [input.staffExternalId],
    heading: who(input),
    contents: clip(input.preview) || "Sent a message",
    ...common(input, "new-message"),
    ...(input.messageId ? { dedupeKey: `message:${input.messageId}` } : {}),
  };
}

/** A chat has waited too long for a reply: everyone accepting chats, again. */
export function escalationNotification(
  input: Player & { waitingSeconds: number; staffExternalIds: readonly string[]; preview?: string },
): PushMessage {
  const preview = input.preview ? clip(input.preview) : "";
  return {
    kind: "escalation",
    externalIds: input.staffExternalIds,
    heading: `Still waiting: ${who(input)}`,
    contents: clip(`Waiting ${formatWait(input.waitingSeconds)} for a reply${preview ? ` · ${preview}` : ""}`),
    ...common(input, "escalation"),
    // A request escalates once (escalated_at is set once), so one push per request.
    dedupeKey: `escalation:${input.requestId}`,
  };
}

/** The staff portal with that request open. */
export function staffRequestUrl(appUrl: string, requestId: string) {
  return `${appUrl.replace(/\/+$/, "")}/staff?request=${encodeURIComponent(requestId)}`;
}

/** "45 s", "3 min", "1 h 5 min". */
export function formatWait(seconds: number) {
  const s = Number.isFinite(seconds) ? Math.max(0, Math.floor(seconds)) : 0;
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return m ? `${h} h ${m} min` : `${h} h`;
}

/** One line, at most `max` characters (code points, so an emoji is never cut in half). */
export function clip(text: string, max = PREVIEW_MAX_CHARS) {
  const flat = text.replace(/\s+/g, " ").trim();
  const chars = Array.from(flat);
  if (chars.length <= max) return flat;
  return `${chars
    .slice(0, max - 1)
    .join("")
    .trimEnd()}…`;
}

function who(input: Player) {
  return `${clip(input.playerName, NAME_MAX_CHARS) || "Player"} (#${input.playerId})`;
}

function common(input: Player, kind: string) {
  return {
    webUrl: staffRequestUrl(input.appUrl, input.requestId),
    // One slot per chat on the device: a newer alert about the same chat replaces the older one,
    // alerts about different chats stay side by side.
    topic: `chat-${input.requestId}`,
    ttlSeconds: CHAT_PUSH_TTL_SECONDS,
    data: { kind, requestId: input.requestId, playerId: input.playerId },
  };
}

/**
 * What a push says by default (PUSH_SHOW_PLAYER_DETAILS off): lock screens and shared club PCs
 * show pushes to whoever looks, so neither the player's name nor their words are in it.
 */
export function withoutPlayerDetails(message: PushMessage): PushMessage {
  const contents =
    message.kind === "escalation" ? "A player is still waiting for a reply" : "New message from a player";
  return { ...message, heading: "Floorline", contents };
}
