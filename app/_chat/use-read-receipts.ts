"use client";

import { useEffect, useRef } from "react";
import type { ChatMessage, Sender } from "@/db/schema";

/**
 * While this page is on screen, reports the other side's messages read, up to the newest one
 * not yet read that the reader has seen (`seenUpTo`: MessageList's onSeen; one that arrived while
 * they were scrolled up waits until they go down to it). Hidden tabs report when they become
 * visible: that is when a person reads.
 */
export function useReadReceipts(
  messages: ChatMessage[],
  from: Sender,
  seenUpTo: number,
  report: (upToSeq: number) => void,
) {
  const unreadUpTo = messages.filter((m) => m.sender === from && m.status !== "read" && m.seq <= seenUpTo).at(-1)?.seq;
  const latest = useRef(report);
  latest.current = report;
  useEffect(() => {
    if (unreadUpTo === undefined) return;
    const tryNow = () => {
      if (document.visibilityState === "visible") latest.current(unreadUpTo);
    };
    tryNow();
    document.addEventListener("visibilitychange", tryNow);
    return () => document.removeEventListener("visibilitychange", tryNow);
  }, [unreadUpTo]);
}
