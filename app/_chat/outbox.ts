/**
 * Messages the player has written that the server has not yet confirmed. Kept in localStorage
 * so a reload, a crash or an offline spell loses nothing; each keeps the id it was born with,
 * so sending it again can only ever store it once.
 */
export type OutboxState = "queued" | "sending" | "failed";
export type OutboxEntry = { id: string; text: string; createdAt: number; state: OutboxState; error?: string };

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
