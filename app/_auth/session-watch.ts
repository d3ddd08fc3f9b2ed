"use client";

import type Pusher from "pusher-js";
import { sessionIsGone } from "./session-api";
import { reportSignedOut } from "./signed-out";

/** Pusher protocol close code the server uses for `terminate_connections`. */
const TERMINATED = 4009;

/**
 * Signs this tab's realtime connection in as its session (pusher:signin; pusher-js repeats it
 * after every reconnect). When the session ends — sign-out in another tab, deactivation — the
 * server closes the connection with 4009; then, if the session is really gone, the tab says it
 * is signed out (signed-out.ts) instead of sitting there deaf. Returns the clean-up.
 */
export function watchSession(client: Pusher) {
  client.signin();
  // pusher-js reports a close code as { type: "PusherError", data: { code } }.
  const onError = async (event: { type?: string; data?: { code?: number } } | undefined) => {
    if (event?.type !== "PusherError" || event.data?.code !== TERMINATED) return;
    if ((await sessionIsGone()) === true) reportSignedOut();
    else client.connect(); // another device's session ended, or we could not tell: carry on
  };
  client.connection.bind("error", onError);
  return () => client.connection.unbind("error", onError);
}
