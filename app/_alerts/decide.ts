import type { ChatMessage, ChatRequest } from "@/db/schema";
import type { QueueItem } from "@/server/chat/staff";

/** Pure decisions behind the staff alerts, kept apart from the browser APIs so they can be tested. */

export type AlertEvent =
  | { kind: "new-request"; request: ChatRequest }
  | { kind: "escalated"; request: ChatRequest }
  | { kind: "player-message"; request: ChatRequest; message: ChatMessage };

export type AlertContext = {
  meId: string;
  /** The conversation open on this tab, and whether the tab is on screen. */
  viewingRequestId: string | null;
  visible: boolean;
};

export type Alert = { title: string; body: string; requestId: string };

/**
 * What deserves a sound and a notification: every new or escalated request, and a player's
 * message in a chat I hold, unless I am looking at that very conversation.
 */
export function alertFor(event: AlertEvent, ctx: AlertContext): Alert | null {
  const { request } = event;
  const who = `${request.playerName} (#${request.playerId})`;
  switch (event.kind) {
    case "new-request":
      return { title: `New chat: ${who}`, body: request.initialMessage, requestId: request.id };
    case "escalated":
      return { title: `Still waiting: ${who}`, body: request.initialMessage, requestId: request.id };
    case "player-message": {
      if (request.assignedStaffId !== ctx.meId || event.message.sender !== "player") return null;
      if (ctx.visible && ctx.viewingRequestId === request.id) return null;
      return { title: who, body: event.message.messageText, requestId: request.id };
    }
  }
}

/**
 * The number in the tab title: chats waiting for anyone, plus unread player messages in the
 * chats I hold. What a staff member glancing at the tab strip needs to act on.
 */
export function attentionCount(queue: readonly QueueItem[] | undefined, meId: string) {
  if (!queue) return 0;
  let count = 0;
  for (const item of queue) {
    if (item.status === "waiting") count += 1;
    else if (item.status === "in_progress" && item.assignedStaffId === meId) count += item.unreadCount;
  }
  return count;
}

export function titleWithCount(base: string, count: number) {
  return count > 0 ? `(${count}) ${base}` : base;
}
