"use client";

import type Pusher from "pusher-js";
import { isSignedOut } from "../_auth/signed-out";

const FIRST_MS = 1000;
const MAX_MS = 5000;
/** A probe neither answered nor refused by then counts as "still down". */
const PROBE_TIMEOUT_MS = 5000;

/**
 * pusher-js notices a lost connection at once, but after a refused attempt its default strategy
 * waits out that attempt's timer before the next one: 15 s, then 30 s, then 60 s. A realtime
 * server restarted in two seconds left every page deaf for up to a minute.
 *
 * While the connection is down, this checks the server on a short back-off (1, 2, 4, then every
 * 5 s, each ±20 % so a floor of pages does not come back in step) with a WebSocket of its own.
 * Once the server greets that one, pusher-js starts a fresh attempt at once. Only then: an
 * attempt still under way on a slow server is never cut short, and a server that is down costs
 * one refused socket per check. A connection closed on purpose (`disconnected`: signed out, the
 * session ended) or impossible (`failed`) is left alone. Returns the clean-up.
 */
export function keepReconnecting(client: Pusher) {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let probe: WebSocket | undefined;
  let attempt = 0;
  const down = () => {
    const { state } = client.connection;
    return (state === "connecting" || state === "unavailable") && !isSignedOut();
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
    const delay = Math.min(MAX_MS, FIRST_MS * 2 ** attempt++) * (0.8 + Math.random() * 0.4);
    timer = setTimeout(check, delay);
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
    if (current === "connected") attempt = 0;
    if (current === "connecting" || current === "unavailable") {
      if (!timer && !probe) schedule();
    } else stop();
  };
  client.connection.bind("state_change", onStateChange);
  // pusher-js starts connecting in its constructor: that first "connecting" came before this
  // listener, and a page opened during an outage would wait for "unavailable" (10 s) to check.
  if (down()) schedule();
  return () => {
    stop();
    client.connection.unbind("state_change", onStateChange);
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
