"use client";

import type { Channel } from "pusher-js";
import { useEffect, useRef } from "react";
import { EVENTS } from "@/protocol/channels";
import { useEvent } from "../_realtime/provider";

/**
 * Runs `catchUp` when this tab may have missed events on `channel`: each time the channel is
 * (re)subscribed, when the tab becomes visible again (phones freeze hidden tabs), and when the
 * web process says it dropped some (`catch-up`).
 *
 * Not also when the connection comes back: pusher-js renews every subscription after a
 * reconnect, and only once that succeeds is nothing more missed. A catch-up at the reconnect
 * itself was a second fetch per page (a second `staff.queue` per staff screen in a reconnect
 * storm) that could still miss what was published before the subscription was live.
 */
export function useCatchUp(channel: Channel | null, catchUp: () => void) {
  const latest = useRef(catchUp);
  latest.current = catchUp;

  useEvent(channel, "pusher:subscription_succeeded", () => latest.current());
  // The web process dropped events of this channel and has nothing newer to show the gap by.
  useEvent(channel, EVENTS.catchUp, () => latest.current());

  useEffect(() => {
    const onVisible = () => {
      if (document.visibilityState === "visible") latest.current();
    };
    document.addEventListener("visibilitychange", onVisible);
    return () => document.removeEventListener("visibilitychange", onVisible);
  }, []);
}
