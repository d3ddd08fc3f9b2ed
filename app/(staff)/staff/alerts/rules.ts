import type { ChatMessage, ChatRequest } from "@/db/schema";
import type { QueueItem } from "@/protocol/events";

/**
 * The decisions behind staff alerts, as pure functions: no browser APIs here, so the rules can be
 * tested in Node and read in one place.
 */

export type AlertEvent =
  | { kind: "new-request"; request: ChatRequest }
  | { kind: "escalated"; request: ChatRequest }
  | { kind: "player-message"; request: ChatRequest; message: ChatMessage };

export type AlertContext = {
  meId: string;
  /** Off duty: the server stops pushing new chats to them, so the browser stops chiming too. */
  acceptingChats: boolean;
  /** Requests open in a staff tab of this browser that is on screen (this tab or another one). */
  onScreen: readonly (string | null)[];
  /** Whether any staff tab of this browser is on screen. */
  anyTabVisible: boolean;
};

export type Alert = {
  requestId: string;
  title: string;
  body: string;
  /** Also show a system notification: nobody is looking at a staff tab. */
  notify: boolean;
};

/**
 * Sound (and, when no staff tab is on screen, a notification) for: a new request, a request that
 * has waited past the escalation time and still waits, and a player's message in a chat assigned
 * to me, unless that conversation is open on a visible tab. Everything else: null.
 */
export function decideAlert(event: AlertEvent, ctx: AlertContext): Alert | null {
  const { request } = event;
  const player = playerLabel(request);
  const notify = !ctx.anyTabVisible;
  switch (event.kind) {
    case "new-request":
      if (!ctx.acceptingChats || request.status !== "waiting") return null;
      return { requestId: request.id, title: `New chat: ${player}`, body: preview(request.initialMessage), notify };
    case "escalated":
      // Someone may have taken it between the server's check and now.
      if (!ctx.acceptingChats || request.status !== "waiting") return null;
      return {
        requestId: request.id,
        title: `Still waiting: ${player}`,
        body: preview(request.initialMessage),
        notify,
      };
    case "player-message":
      if (event.message.sender !== "player" || request.assignedStaffId !== ctx.meId) return null;
      if (ctx.onScreen.includes(request.id)) return null;
      return {
        requestId: request.id,
        title: `Message from ${player}`,
        body: preview(event.message.messageText),
        notify,
      };
  }
}

/**
 * What makes two copies of one event one alert: the message, or the request at its version (a
 * request reopened or escalated again is a new version and may alert again).
 */
export function alertKey(event: AlertEvent) {
  return event.kind === "player-message"
    ? `message:${event.message.id}`
    : `${event.kind}:${event.request.id}:${event.request.version}`;
}

/**
 * True the first time a key is offered, false for a repeat. With hosted Pusher (no idempotency
 * keys) a publish retried after a lost answer reaches sockets twice, and each copy would ring.
 * The last `max` keys are kept, the oldest going first: a retry comes within seconds, long
 * before a busy floor makes that many new ones.
 */
export function firstSighting(max = 500) {
  const seen = new Set<string>();
  return (key: string) => {
    if (seen.has(key)) return false;
    if (seen.size >= max) seen.delete(seen.values().next().value as string);
    seen.add(key);
    return true;
  };
}

function playerLabel(request: Pick<ChatRequest, "playerName" | "playerId">) {
  return request.playerName.trim() || `Player #${request.playerId}`;
}

/** One line, short enough for a notification. */
export function preview(text: string, max = 120) {
  const line = text.replace(/\s+/g, " ").trim();
  return line.length <= max ? line : `${line.slice(0, max - 1).trimEnd()}…`;
}

/**
 * The number in the tab title: what this staff member has to act on.
 * - each waiting request counts once, however many messages the player sent: it is one person
 *   to pick up, and their messages are one ask;
 * - plus the unread player messages in my in-progress chats: each one is something to answer;
 * - other staff's chats and resolved chats do not count: they are not my job right now.
 */
export function attentionCount(queue: readonly QueueItem[] | undefined, meId: string) {
  let count = 0;
  for (const item of queue ?? []) {
    if (item.status === "waiting") count += 1;
    else if (item.status === "in_progress" && item.assignedStaffId === meId) count += item.unreadCount;
  }
  return count;
}

const COUNT_PREFIX = /^\(\d+\+?\) /;

/** `(3) Queue · Floorline staff`; the base title alone at 0; `(99+)` beyond that. */
export function titleWithCount(base: string, count: number) {
  const clean = stripTitleCount(base);
  if (count <= 0) return clean;
  return `(${count > 99 ? "99+" : count}) ${clean}`;
}

/** The title without our count, whatever count it carries now. */
export function stripTitleCount(title: string) {
  return title.replace(COUNT_PREFIX, "");
}

/** Where a notification click takes the staff member: the portal with that chat open. */
export function requestUrl(requestId: string) {
  return `/staff?request=${encodeURIComponent(requestId)}`;
}
