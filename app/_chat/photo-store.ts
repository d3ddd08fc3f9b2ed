"use client";

import { createStore, del, get, set } from "idb-keyval";

/**
 * The bytes of photos waiting in the outbox. The outbox list lives in localStorage, which holds
 * text only and a few MB at most; a photo's Blob goes to IndexedDB under the entry's id, so a
 * queued photo survives a reload like a queued text. Kept in memory too: where IndexedDB is
 * unavailable (some private modes) a photo still waits out an offline spell, just not a reload.
 */
const memory = new Map<string, Blob>();
let store: ReturnType<typeof createStore> | null = null;

/** Any IndexedDB failure (none at all, blocked, quota) leaves the memory copy to do the work. */
async function inDb<T>(work: (s: ReturnType<typeof createStore>) => Promise<T>): Promise<T | undefined> {
  try {
    store ??= createStore("floorline", "outbox-photos");
    return await work(store);
  } catch {
    return undefined;
  }
}

export async function keepPhoto(id: string, blob: Blob) {
  memory.set(id, blob);
  await inDb((s) => set(id, blob, s));
}

export async function loadPhoto(id: string): Promise<Blob | null> {
  const held = memory.get(id);
  if (held) return held;
  const stored = await inDb((s) => get<Blob>(id, s));
  if (stored) memory.set(id, stored);
  return stored ?? null;
}

export function forgetPhoto(id: string) {
  memory.delete(id);
  void inDb((s) => del(id, s));
}
