import type { ChatMessage, ChatRequest } from "@/db/schema";
import type { Queue, QueueItem, QueueRequest } from "@/protocol/events";

/**
 * Pure updates of the staff caches from realtime events and our own results. Events can arrive
 * late or out of order (a background publish retry, a refetch racing an event), so a request is
 * replaced only by a strictly newer version of itself.
 */

export const isNewer = (incoming: Pick<ChatRequest, "version">, held: Pick<ChatRequest, "version"> | undefined) =>
  !held || incoming.version > held.version;

export function upsertRequest(items: Queue | undefined, request: QueueRequest): Queue | undefined {
  if (!items) return items;
  const known = items.find((i) => i.id === request.id);
  if (!known) return [...items, { ...request, lastMessage: null, unreadCount: 0 }];
  if (!isNewer(request, known)) return items;
  return items.map((i) => (i.id === request.id ? { ...i, ...request } : i));
}

/** A refetched conversation keeps the request we hold when the fetch read an older version. */
export function mergeFetchedConversation(held: unknown, fetched: unknown): unknown {
  const h = held as { request: ChatRequest } | undefined;
  const f = fetched as { request: ChatRequest } | undefined;
  return h?.request && f?.request && !isNewer(f.request, h.request) ? { ...f, request: h.request } : fetched;
}

/** The open conversation's `{ request, player }` cache: the same newer-only rule. */
export function withNewerRequest<C extends { request: ChatRequest }>(cached: C | undefined, request: ChatRequest) {
  return cached && cached.request.id === request.id && isNewer(request, cached.request)
    ? { ...cached, request }
    : cached;
}

/**
 * A refetched queue merged over the held one: a row the fetch read before an event we already
 * applied keeps the newer request (by version) and the later last message (by seq).
 */
export function mergeFetchedQueue(held: unknown, fetched: unknown): unknown {
  if (!Array.isArray(held) || !Array.isArray(fetched)) return fetched;
  const byId = new Map((held as Queue).map((i) => [i.id, i]));
  return (fetched as Queue).map((item) => {
    const mine = byId.get(item.id);
    if (!mine) return item;
    const request = isNewer(mine, item) ? mine : item;
    const last = (mine.lastMessage?.seq ?? 0) > (item.lastMessage?.seq ?? 0) ? mine : item;
    return { ...item, ...pickRequest(request), lastMessage: last.lastMessage, unreadCount: last.unreadCount };
  });
}

// The request row carries its own unreadCount (the server's summary); the item's, merged above, wins.
function pickRequest({ lastMessage: _l, ...request }: QueueItem): QueueRequest {
  return request;
}

export function applyMessage(items: Queue | undefined, message: ChatMessage, request: ChatRequest): Queue | undefined {
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

export function markPlayerRead(items: Queue | undefined, playerId: number): Queue | undefined {
  return items?.map((i) => (i.playerId === playerId && i.unreadCount > 0 ? { ...i, unreadCount: 0 } : i));
}

const time = (d: Date | string | null) => (d ? new Date(d).getTime() : 0);

/** Waiting: oldest first (longest wait on top). In progress: oldest first. Resolved: newest first. */
export function splitQueue(items: Queue) {
  const by = (status: QueueItem["status"]) => items.filter((i) => i.status === status);
  return {
    waiting: by("waiting").sort((a, b) => time(a.createdAt) - time(b.createdAt)),
    inProgress: by("in_progress").sort((a, b) => time(a.createdAt) - time(b.createdAt)),
    resolved: by("resolved").sort((a, b) => time(b.resolvedAt) - time(a.resolvedAt)),
  };
}
