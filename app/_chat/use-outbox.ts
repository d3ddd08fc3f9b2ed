"use client";

import { TRPCClientError } from "@trpc/client";
import { useCallback, useEffect, useRef, useState } from "react";
import type { ChatMessage } from "@/db/schema";
import { isSignedOut } from "../_auth/signed-out";
import { plainError } from "../_trpc/plain-error";
import { isFinalError } from "../_trpc/query-client";
import { type OutboxEntry, outboxStorageKey, readOutbox, writeOutbox } from "./outbox";
import { forgetPhoto, keepPhoto } from "./photo-store";
import { sendLimitWaitMs } from "./slow-down";

const MAX_BACKOFF_MS = 15_000;

/**
 * Sends what the user wrote, in the order written, until the server has stored it. Mounted once
 * per portal (not per view), so queued messages keep retrying whatever the user looks at.
 * Network trouble → wait and try again (sooner when the browser says it is back online);
 * a refusal the user must act on (too long, not allowed) → kept as failed with the reason.
 */
export function useOutbox(opts: {
  owner: string;
  send: (entry: OutboxEntry) => Promise<ChatMessage>;
  onStored: (message: ChatMessage) => void;
}) {
  const { owner } = opts;
  const [entries, setEntries] = useState<OutboxEntry[]>([]);
  const [online, setOnline] = useState(true);
  const [slowDownUntil, setSlowDownUntil] = useState<number | null>(null);
  const latest = useRef(opts);
  latest.current = opts;
  const flushing = useRef(false);
  const retryTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const attempt = useRef(0);

  const update = useCallback(
    (change: (current: OutboxEntry[]) => OutboxEntry[]) => {
      // Storage is the source of truth so that other tabs and reloads see the same list.
      const next = change(readOutbox(owner));
      writeOutbox(owner, next);
      setEntries(next);
    },
    [owner],
  );

  const flush = useCallback(async () => {
    if (flushing.current) return;
    flushing.current = true;
    clearTimeout(retryTimer.current);
    try {
      for (;;) {
        if (typeof navigator !== "undefined" && !navigator.onLine) return;
        // Nothing can be stored until the user signs in again; this page reloads then and sends.
        if (isSignedOut()) return;
        const next = readOutbox(owner).find((e) => e.state !== "failed");
        if (!next) return;
        update((all) => all.map((e) => (e.id === next.id ? { ...e, state: "sending" } : e)));
        try {
          const stored = await latest.current.send(next);
          attempt.current = 0;
          setSlowDownUntil(null);
          latest.current.onStored(stored);
          update((all) => all.filter((e) => e.id !== next.id));
          if (next.photo) forgetPhoto(next.id);
        } catch (err) {
          if (err instanceof TRPCClientError && err.data?.code === "UNAUTHORIZED") {
            // Not the message's fault: it waits here (localStorage) while the user signs in again.
            update((all) => all.map((e) => (e.id === next.id ? { ...e, state: "queued" } : e)));
            return;
          }
          if (isFinalError(err)) {
            const reason = plainError(err);
            update((all) => all.map((e) => (e.id === next.id ? { ...e, state: "failed", error: reason } : e)));
            continue;
          }
          update((all) => all.map((e) => (e.id === next.id ? { ...e, state: "queued" } : e)));
          // Over the send limit: hold everything for exactly as long as the server says.
          const limited = sendLimitWaitMs(err);
          setSlowDownUntil(limited === null ? null : Date.now() + limited);
          const delay = limited ?? Math.min(MAX_BACKOFF_MS, 500 * 2 ** attempt.current++);
          retryTimer.current = setTimeout(() => void flush(), delay);
          return;
        }
      }
    } finally {
      flushing.current = false;
    }
  }, [owner, update]);

  useEffect(() => {
    // A tab that closed mid-send left entries marked "sending": they are simply queued again.
    update((all) => all.map((e) => (e.state === "sending" ? { ...e, state: "queued" } : e)));
    setOnline(navigator.onLine);
    void flush();
    const onOnline = () => {
      setOnline(true);
      attempt.current = 0;
      void flush();
    };
    const onOffline = () => setOnline(false);
    const onStorage = (event: StorageEvent) => {
      if (event.key === outboxStorageKey(owner)) setEntries(readOutbox(owner));
    };
    window.addEventListener("online", onOnline);
    window.addEventListener("offline", onOffline);
    window.addEventListener("storage", onStorage);
    return () => {
      window.removeEventListener("online", onOnline);
      window.removeEventListener("offline", onOffline);
      window.removeEventListener("storage", onStorage);
      clearTimeout(retryTimer.current);
    };
  }, [owner, update, flush]);

  const enqueue = useCallback(
    (text: string, about: Pick<OutboxEntry, "requestId"> & { photo?: File } = {}) => {
      const { photo, ...rest } = about;
      const entry: OutboxEntry = { id: crypto.randomUUID(), text, createdAt: Date.now(), state: "queued", ...rest };
      if (photo) {
        // Held in memory at once (a send can start now) and written to IndexedDB for a reload.
        void keepPhoto(entry.id, photo);
        entry.photo = { name: photo.name, type: photo.type, size: photo.size };
      }
      update((all) => [...all, entry]);
      void flush();
      return entry;
    },
    [update, flush],
  );

  const retry = useCallback(
    (id: string) => {
      update((all) => all.map((e) => (e.id === id ? { ...e, state: "queued", error: undefined } : e)));
      attempt.current = 0;
      void flush();
    },
    [update, flush],
  );

  const discard = useCallback(
    (id: string) => {
      update((all) => all.filter((e) => e.id !== id));
      forgetPhoto(id);
    },
    [update],
  );

  /** Called when the connection comes back: try now rather than at the next back-off tick. */
  const kick = useCallback(() => {
    attempt.current = 0;
    void flush();
  }, [flush]);

  return { entries, online, slowDownUntil, enqueue, retry, discard, kick };
}
