import type { InfiniteData } from "@tanstack/react-query";
import type { ChatMessage, MessageStatus } from "@/db/schema";

/**
 * Pure functions over a thread's cached pages. Ordering is by `seq`, never by arrival;
 * a message is identified by its id, so an event and a refetch of the same row merge into one.
 */
export type HistoryPage = { messages: ChatMessage[]; olderCursor: number | undefined };
// biome-ignore lint/suspicious/noExplicitAny: the page param type differs per query; these functions never read it
export type HistoryData = InfiniteData<HistoryPage, any>;

/** `getNextPageParam` for thread queries: the next page is the older one. */
export const olderPage = (page: HistoryPage) => page.olderCursor;

const statusRank: Record<MessageStatus, number> = { sent: 0, received: 1, read: 2 };

/** Receipts only move forward: a late "received" must not undo "read". */
export function laterStatus(a: MessageStatus, b: MessageStatus): MessageStatus {
  return statusRank[b] > statusRank[a] ? b : a;
}

export function mergeMessages(existing: readonly ChatMessage[], incoming: readonly ChatMessage[]): ChatMessage[] {
  const byId = new Map(existing.map((m) => [m.id, m]));
  for (const m of incoming) {
    const known = byId.get(m.id);
    byId.set(m.id, known ? { ...m, status: laterStatus(known.status, m.status) } : m);
  }
  return [...byId.values()].sort((a, b) => a.seq - b.seq);
}

/**
 * The seq after which the first hole in what we hold begins (messages oldest → newest), or null.
 * Every seq in a player's thread is used once and none is skipped, so any hole means a missed
 * row: one below our own newer message as much as one above the newest.
 */
export function firstGap(messages: readonly Pick<ChatMessage, "seq">[]): number | null {
  for (let i = 1; i < messages.length; i++) {
    const before = messages[i - 1]?.seq ?? 0;
    if ((messages[i]?.seq ?? 0) > before + 1) return before;
  }
  return null;
}

/**
 * Merges rows into the pages: newer than the oldest loaded row → the newest page; a row inside
 * an older page's range replaces its copy there; older than anything loaded → left for scrolling.
 */
export function mergeIntoHistory<D extends HistoryData>(
  data: D | undefined,
  incoming: readonly ChatMessage[],
): D | undefined {
  if (!data || incoming.length === 0) return data;
  const pages = data.pages.map((page) => ({ ...page }));
  const rest: ChatMessage[] = [];
  for (const m of incoming) {
    const home = pages.findIndex((p, i) => (p.messages[0]?.seq ?? (i === 0 ? 0 : Infinity)) <= m.seq);
    if (home === -1) continue;
    if (home === 0) rest.push(m);
    else {
      const page = pages[home];
      if (page) page.messages = mergeMessages(page.messages, [m]);
    }
  }
  const newest = pages[0];
  if (newest && rest.length) newest.messages = mergeMessages(newest.messages, rest);
  return { ...data, pages };
}

/** Sets the status of the given messages (or of every `sender` message up to `upToSeq`). */
export function applyStatus<D extends HistoryData>(
  data: D | undefined,
  change: { status: MessageStatus; ids?: readonly string[]; upToSeq?: number; sender?: ChatMessage["sender"] },
): D | undefined {
  if (!data) return data;
  const ids = change.ids ? new Set(change.ids) : null;
  // Only rows this moves forward: an unchanged cache stays the same object (no re-render, no loop).
  const matches = (m: ChatMessage) =>
    laterStatus(m.status, change.status) !== m.status &&
    (ids
      ? ids.has(m.id)
      : change.upToSeq !== undefined && m.seq <= change.upToSeq && (!change.sender || m.sender === change.sender));
  let changed = false;
  const pages = data.pages.map((page) => {
    if (!page.messages.some(matches)) return page;
    changed = true;
    return {
      ...page,
      messages: page.messages.map((m) => (matches(m) ? { ...m, status: laterStatus(m.status, change.status) } : m)),
    };
  });
  return changed ? { ...data, pages } : data;
}

/** Oldest → newest, for display. */
export function flattenHistory(data: HistoryData | undefined): ChatMessage[] {
  if (!data) return [];
  return mergeMessages(
    [],
    data.pages.flatMap((p) => p.messages),
  );
}

/**
 * Where a catch-up fetch should start: after the newest row we hold, or earlier if some of
 * `mine` are not yet read, so their receipt states are refreshed by the same fetch.
 */
export function resyncPoint(messages: readonly ChatMessage[], mine: ChatMessage["sender"]): number {
  const lastSeq = messages.at(-1)?.seq ?? 0;
  const firstUnread = messages.find((m) => m.sender === mine && m.status !== "read");
  return firstUnread ? Math.min(lastSeq, firstUnread.seq - 1) : lastSeq;
}
