"use client";

import type { Channel } from "pusher-js";
import { useCallback, useEffect, useRef, useState } from "react";
import { EVENTS } from "@/protocol/channels";
import { useEvent } from "../_realtime/provider";

type Side = "player" | "staff";
type TypingPayload = { who: Side; name: string };

const SEND_EVERY_MS = 2000;
const SHOW_FOR_MS = 4000;

/**
 * "… is typing" over a client event on the player's channel: the server never sees it,
 * and it is throttled so a fast typist sends one event every two seconds at most.
 */
export function useTyping(channel: Channel | null, me: { side: Side; name: string }) {
  const lastSent = useRef(0);
  const hideTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const [typingName, setTypingName] = useState<string | null>(null);

  const notifyTyping = useCallback(() => {
    const now = Date.now();
    if (!channel?.subscribed || now - lastSent.current < SEND_EVERY_MS) return;
    lastSent.current = now;
    channel.trigger(EVENTS.typing, { who: me.side, name: me.name } satisfies TypingPayload);
  }, [channel, me.side, me.name]);

  /** After a send the next keystroke announces typing at once: it is a new message. */
  const sent = useCallback(() => {
    lastSent.current = 0;
  }, []);

  const clearTyping = useCallback(() => {
    clearTimeout(hideTimer.current);
    setTypingName(null);
  }, []);

  useEvent<TypingPayload>(channel, EVENTS.typing, (data) => {
    if (data?.who === me.side || typeof data?.name !== "string") return;
    setTypingName(data.name.slice(0, 60));
    clearTimeout(hideTimer.current);
    hideTimer.current = setTimeout(() => setTypingName(null), SHOW_FOR_MS);
  });
  useEffect(() => () => clearTimeout(hideTimer.current), []);

  return { typingName, notifyTyping, clearTyping, sent };
}

export function TypingIndicator({ name }: { name: string | null }) {
  return (
    <p className="typing" aria-live="polite">
      {name ? `${name} is typing…` : ""}
    </p>
  );
}
