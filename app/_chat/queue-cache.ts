import type { ChatMessage, ChatRequest } from "@/db/schema";
import type { QueueItem } from "@/protocol/events";

/** Pure updates of the staff queue cache from realtime events. */

export function upsertRequest(items: QueueItem[] | undefined, request: ChatRequest): QueueItem[] | undefined {
  if (!items) return items;
  const known = items.find((i) => i.id === request.id);
  if (known) return items.map((i) => (i.id === request.id ? { ...i, ...request } : i));
  return [...items, { ...request, lastMessage: null, unreadCount: 0 }];
}

export function applyMessage(
  items: QueueItem[] | undefined,
  message: ChatMessage,
  request: ChatRequest,
): QueueItem[] | undefined {
  const withRequest = upsertRequest(items, request);
  if (!withRequest) return withRequest;
  return withRequest.map((item) => {
    if (item.id !== request.id) return item;
    // The same message can arrive twice (event and refetch): count it once.
    if (item.lastMessage && item.lastMessage.seq >= message.seq) return item;
    const unread = message.sender === "player" && message.status !== "read";
    return {
      ...item,
      lastMessage: {
        messageText: message.messageText,
        sender: message.sender,
        seq: message.seq,
        timestamp: message.timestamp,
      },
      unreadCount: item.unreadCount + (unread ? 1 : 0),
    };
  });
}

export function markPlayerRead(items: QueueItem[] | undefined, playerId: number): QueueItem[] | undefined {
  return items?.map((i) => (i.playerId === playerId && i.unreadCount > 0 ? { ...i, unreadCount: 0 } : i));
}

const time = (d: Date | string | null) => (d ? new Date(d).getTime() : 0);

/** Waiting: oldest first (longest wait on top). In progress: oldest first. Resolved: newest first. */
export function splitQueue(items: QueueItem[]) {
  const by = (status: QueueItem["status"]) => items.filter((i) => i.status === status);
  return {
    waiting: by("waiting").sort((a, b) => time(a.createdAt) - time(b.createdAt)),
    inProgress: by("in_progress").sort((a, b) => time(a.createdAt) - time(b.createdAt)),
    resolved: by("resolved").sort((a, b) => time(b.resolvedAt) - time(a.resolvedAt)),
  };
}
