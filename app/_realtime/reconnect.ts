"use client";

import type Pusher from "pusher-js";
import { reconnectCheckDelayMs } from "@/protocol/reconnect";
import { isSignedOut } from "../_auth/signed-out";

/** A probe neither answered nor refused by then counts as "still down". */
const PROBE_TIMEOUT_MS = 5000;
/** The close code a browser reports for a connection lost without a close frame (a crashed server). */
const CLOSED_ABNORMALLY = 1006;

/**
 * pusher-js notices a lost connection at once, but after a refused attempt its default strategy
 * waits out that attempt's timer before the next one: 15 s, then 30 s, then 60 s. A realtime
 * server restarted in two seconds left every page deaf for up to a minute.
 *
 * While the connection is down, this checks the server on a short back-off
 * (`reconnectCheckDelayMs`: every 0.5 s for the first 2 s, then 1, 2, 4 and every 5 s) with a
 * WebSocket of its own. Once the server greets that one, pusher-js starts a fresh attempt at once.
 * Only then: an attempt still under way on a slow server is never cut short, and a server that is
 * down costs one refused socket per check. The checks start at the drop itself when the server
 * vanished without a word (1006, a crash): pusher-js waits 1 s before its first try, still calling
 * itself "connected", and a restart that took longer than that try was found only by the checks
 * after it. A close the server asked to be answered with a back-off (4100–4199) waits for
 * pusher-js's "connecting" as before. A connection closed on purpose (`disconnected`: signed out,
 * the session ended) or impossible (`failed`) is left alone. Returns the clean-up.
 */
export function keepReconnecting(client: Pusher) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let probe: WebSocket | undefined;
  let attempt = 0;
  /** The server vanished and pusher-js waits out its 1 s before trying again, still "connected". */
  let vanished = false;
  const down = () => {
    const { state } = client.connection;
    return (state === "connecting" || state === "unavailable" || vanished) && !isSignedOut();
  };
  const stop = () => {
    clearTimeout(timer);
    timer = undefined;
    if (probe) {
      probe.onmessage = probe.onerror = probe.onclose = null;
      probe.close();
      probe = undefined;
    }
  };
  const schedule = () => {
    timer = setTimeout(check, reconnectCheckDelayMs(attempt++));
  };
  const check = () => {
    if (!down()) return stop();
    const socket = new WebSocket(serverUrl(client));
    probe = socket;
    const settle = (up: boolean) => {
      stop();
      if (!down()) return;
      if (!up) return schedule();
      // Drops the attempt pusher-js is waiting on and starts one now; its channels are kept and
      // subscribed again once connected. The state changes that follow schedule the next check.
      client.disconnect();
      client.connect();
    };
    // Only the server's greeting (pusher:connection_established) says it is really serving: after
    // an error such as "over the connection limit", pusher-js would only be refused in turn.
    socket.onmessage = (event) => settle(greets(event.data));
    socket.onerror = socket.onclose = () => settle(false);
    timer = setTimeout(() => settle(false), PROBE_TIMEOUT_MS);
  };
  const onStateChange = ({ current }: { current: string }) => {
    vanished = false;
    if (current === "connected") attempt = 0;
    if (current === "connecting" || current === "unavailable") {
      if (!timer && !probe) schedule();
    } else stop();
  };
  // pusher-js reports a close code as { type: "PusherError", data: { code } }, then (closed
  // without an action of the protocol's) schedules its retry in 1 s and says so: "connecting_in".
  let lastClose: number | undefined;
  const onError = (event: { type?: string; data?: { code?: number } } | undefined) => {
    lastClose = event?.type === "PusherError" ? event.data?.code : undefined;
  };
  const onRetryScheduled = () => {
    if (lastClose !== CLOSED_ABNORMALLY || client.connection.state !== "connected") return;
    lastClose = undefined;
    vanished = true;
    if (!timer && !probe) schedule();
  };
  client.connection.bind("state_change", onStateChange);
  client.connection.bind("error", onError);
  client.connection.bind("connecting_in", onRetryScheduled);
  // pusher-js starts connecting in its constructor: that first "connecting" came before this
  // listener, and a page opened during an outage would wait for "unavailable" (10 s) to check.
  if (down()) schedule();
  return () => {
    stop();
    client.connection.unbind("state_change", onStateChange);
    client.connection.unbind("error", onError);
    client.connection.unbind("connecting_in", onRetryScheduled);
  };
}

function greets(data: unknown) {
  try {
    return typeof data === "string" && JSON.parse(data)?.event === "pusher:connection_established";
  } catch {
    return false;
  }
}

/** The address pusher-js connects to (its WebSocket transport), from the client's own settings. */
function serverUrl(client: Pusher) {
  const { useTLS, wsHost, wsPort, wssPort, wsPath } = client.config;
  return `${useTLS ? "wss" : "ws"}://${wsHost}:${useTLS ? wssPort : wsPort}${wsPath ?? ""}/app/${client.key}?protocol=7&client=js&flash=false`;
}
