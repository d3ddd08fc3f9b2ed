"use client";

import type { Channel } from "pusher-js";
import { useCallback, useEffect, useRef, useState } from "react";
import { EVENTS } from "@/protocol/channels";
import { typingNameOf } from "./typing-name";

type Side = "player" | "staff";

const SEND_EVERY_MS = 2000;
const SHOW_FOR_MS = 4000;

/**
 * "… is typing" over a client event on the conversation's presence channel
 * (presence-viewing-{id}): the web server never sees it, the name comes from the sender's
 * presence membership (typing-name.ts), and it is throttled to one event every two seconds.
 */
export function useTyping(channel: Channel | null, me: { side: Side }) {
  const lastSent = useRef(0);
  const hideTimer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  const [typingName, setTypingName] = useState<string | null>(null);

  const notifyTyping = useCallback(() => {
    const now = Date.now();
    if (!channel?.subscribed || now - lastSent.current < SEND_EVERY_MS) return;
    lastSent.current = now;
    channel.trigger(EVENTS.typing, {});
  }, [channel]);

  /** After a send the next keystroke announces typing at once: it is a new message. */
  const sent = useCallback(() => {
    lastSent.current = 0;
  }, []);

  const clearTyping = useCallback(() => {
    clearTimeout(hideTimer.current);
    setTypingName(null);
  }, []);

  useEffect(() => {
    if (!channel) return;
    const listener = (_data: unknown, metadata?: { user_id?: string }) => {
      const name = typingNameOf(channel, metadata, me.side);
      if (!name) return;
      setTypingName(name);
      clearTimeout(hideTimer.current);
      hideTimer.current = setTimeout(() => setTypingName(null), SHOW_FOR_MS);
    };
    channel.bind(EVENTS.typing, listener);
    return () => {
      channel.unbind(EVENTS.typing, listener);
    };
  }, [channel, me.side]);
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
