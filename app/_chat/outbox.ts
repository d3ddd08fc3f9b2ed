/**
 * Messages written that the server has not yet confirmed. Kept in localStorage so a reload, a
 * crash or an offline spell loses nothing; each keeps the id it was born with, so sending it
 * again can only ever store it once. One outbox per portal: staff entries say which chat.
 */
export type OutboxState = "queued" | "sending" | "failed";
export type OutboxEntry = {
  id: string;
  text: string;
  createdAt: number;
  state: OutboxState;
  error?: string;
  /** Staff replies: the chat request it answers. */
  requestId?: string;
  /** A photo message: its bytes wait in the photo store (photo-store.ts) under the entry's id. */
  photo?: { name: string; type: string; size: number };
};

const keyFor = (owner: string) => `floorline.outbox.${owner}`;

export function readOutbox(owner: string): OutboxEntry[] {
  if (typeof localStorage === "undefined") return [];
  try {
    const raw = JSON.parse(localStorage.getItem(keyFor(owner)) ?? "[]");
    return Array.isArray(raw) ? raw.filter(isEntry) : [];
  } catch {
    return [];
  }
}

export function writeOutbox(owner: string, entries: OutboxEntry[]) {
  if (entries.length === 0) localStorage.removeItem(keyFor(owner));
  else localStorage.setItem(keyFor(owner), JSON.stringify(entries));
}

export function outboxStorageKey(owner: string) {
  return keyFor(owner);
}

function isEntry(v: unknown): v is OutboxEntry {
  const e = v as OutboxEntry;
  return typeof e?.id === "string" && typeof e.text === "string" && typeof e.createdAt === "number";
}

/**
 * Moves entries from older per-conversation outboxes (keys `${owner}-${requestId}`, as staff
 * outboxes were once kept) into `owner`'s, tagged with their chat, so nothing written is lost.
 */
export function adoptLegacyOutboxes(owner: string) {
  if (typeof localStorage === "undefined") return;
  const prefix = `${keyFor(owner)}-`;
  const adopted: OutboxEntry[] = [];
  for (const key of Object.keys(localStorage)) {
    if (!key.startsWith(prefix)) continue;
    const requestId = key.slice(prefix.length);
    adopted.push(...readOutbox(`${owner}-${requestId}`).map((e) => ({ ...e, requestId })));
    localStorage.removeItem(key);
  }
  if (adopted.length) {
    const all = [...readOutbox(owner), ...adopted].sort((a, b) => a.createdAt - b.createdAt);
    writeOutbox(owner, all);
  }
}
