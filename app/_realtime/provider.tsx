"use client";

import { useQueryClient } from "@tanstack/react-query";
import Pusher, { type Channel } from "pusher-js";
import { createContext, useCallback, useContext, useEffect, useRef, useState, useSyncExternalStore } from "react";
import type { BrowserRealtimeConfig } from "@/env";
import { sessionIsGone } from "../_auth/session-api";
import { watchSession } from "../_auth/session-watch";
import { onSignedOut, reportSignedOut, useSignedOut } from "../_auth/signed-out";
import { isFinalError } from "../_trpc/query-client";
import { keepReconnecting } from "./reconnect";
import { setCurrentSocketId } from "./socket-id";

export type ConnectionState = "initialized" | "connecting" | "connected" | "unavailable" | "failed" | "disconnected";

/** A channel this page holds: live, waiting for its (re)subscription, or failed and retrying. */
export type ChannelState = "pending" | "live" | "retrying";

type RealtimeContextValue = {
  state: ConnectionState;
  /** Every channel the page holds, by name. */
  channels: ReadonlyMap<string, ChannelState>;
  acquire: (channelName: string) => Channel | null;
  release: (channelName: string) => void;
};

const RealtimeContext = createContext<RealtimeContextValue | null>(null);

const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 15_000;

/** pusher-js's payload for `pusher:subscription_error` with an HTTP authorizer. */
type SubscriptionError = { type?: string; error?: string; status?: number };

/**
 * One pusher-js connection per tab, shared by every hook below it. Channels are reference
 * counted, so two components listening on one channel don't unsubscribe each other.
 *
 * pusher-js retries a failed subscription only after a reconnect: a 5xx from the authorizer (the
 * database was down) would leave the page deaf for good. Here every failed subscription is
 * retried with back-off until it succeeds (each success makes the page catch up), except a
 * 401 the session confirms (it is gone: the tab shows it is signed out, see signed-out.ts, and the
 * connection is closed) or a 403 (this user may not hear it: the "not allowed" page).
 */
export function RealtimeProvider({ config, children }: { config: BrowserRealtimeConfig; children: React.ReactNode }) {
  const [pusher, setPusher] = useState<Pusher | null>(null);
  const [state, setState] = useState<ConnectionState>("initialized");
  const [channels, setChannels] = useState<ReadonlyMap<string, ChannelState>>(new Map());
  const refCounts = useRef(new Map<string, number>());
  const retries = useRef(new Map<string, { timer?: ReturnType<typeof setTimeout>; attempt: number }>());

  const setChannelState = useCallback((name: string, next: ChannelState | null) => {
    setChannels((current) => {
      if (next !== null && current.get(name) === next) return current;
      const copy = new Map(current);
      if (next === null) copy.delete(name);
      else copy.set(name, next);
      return copy;
    });
  }, []);

  // The page (a server component) passes `config` anew each time it renders, and opening a chat
  // (`?request=…`) renders it again: keyed on the object, the effect closed the socket and opened
  // another on every chat opened, authorizing and catching up every channel again. Keyed on the
  // values, the connection lives as long as the page.
  const { key, cluster, wsHost, wsPort, forceTLS } = config;
  useEffect(() => {
    const client = new Pusher(key, {
      cluster,
      ...(wsHost !== undefined ? { wsHost: wsHost ?? window.location.hostname } : {}),
      ...(wsPort !== undefined ? { wsPort, wssPort: wsPort } : {}),
      forceTLS,
      enabledTransports: ["ws", "wss"],
      disableStats: true,
      // Notice a dead link within seconds, not the default half minute: players are on phones.
      pongTimeout: 6000,
      channelAuthorization: { endpoint: "/api/realtime/auth", transport: "ajax" },
      userAuthentication: { endpoint: "/api/realtime/user-auth", transport: "ajax" },
    });
    const stopWatchingSession = watchSession(client);
    const stopReconnecting = keepReconnecting(client);
    // Signed out: nothing more will be authorized, so stop asking (and stop hearing).
    const stopOnSignOut = onSignedOut(() => client.disconnect());
    client.connection.bind("state_change", ({ current }: { current: ConnectionState }) => {
      setState(current);
      setCurrentSocketId(current === "connected" ? client.connection.socket_id : null);
      // A dropped connection drops every subscription; pusher-js renews them on reconnect (and
      // each renewal makes the page catch up, see use-catch-up.ts).
      if (current !== "connected") {
        setChannels((m) => new Map([...m.keys()].map((name) => [name, "pending" as const])));
      }
    });
    setPusher(client);
    const pending = retries.current;
    return () => {
      stopWatchingSession();
      stopReconnecting();
      stopOnSignOut();
      for (const r of pending.values()) clearTimeout(r.timer);
      pending.clear();
      setCurrentSocketId(null);
      client.disconnect();
    };
  }, [key, cluster, wsHost, wsPort, forceTLS]);

  const acquire = useCallback(
    (name: string) => {
      if (!pusher) return null;
      const count = refCounts.current.get(name) ?? 0;
      refCounts.current.set(name, count + 1);
      if (count > 0) return pusher.channel(name) ?? pusher.subscribe(name);
      const channel = pusher.subscribe(name);
      setChannelState(name, channel.subscribed ? "live" : "pending");
      channel.bind("pusher:subscription_succeeded", () => {
        const r = retries.current.get(name);
        if (r) r.attempt = 0;
        setChannelState(name, "live");
      });
      const retry = () => {
        // Subscribed meanwhile (the refusal was of a stale attempt, below): nothing to retry.
        if (pusher.channel(name)?.subscribed) return setChannelState(name, "live");
        setChannelState(name, "retrying");
        const r = retries.current.get(name) ?? { attempt: 0 };
        retries.current.set(name, r);
        clearTimeout(r.timer);
        const delay = Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** r.attempt++) * (0.8 + Math.random() * 0.4);
        r.timer = setTimeout(() => {
          // Still wanted? Then ask again (pusher-js subscribes now if connected, else on connect).
          if (refCounts.current.has(name)) pusher.subscribe(name);
        }, delay);
      };
      channel.bind("pusher:subscription_error", (err: SubscriptionError) => {
        if (err?.status === 401) {
          // Our auth endpoint's 401 means signed out; but the realtime server's refusal of a
          // signature is a 401 too, and pusher-js sends one made for the connection before a
          // reconnect when that authorization was still under way as the connection dropped
          // (its answer goes out on the new connection). Taken as a sign-out, that left the page
          // deaf for good (e2e/supervision.spec.ts). Only the session can tell them apart.
          void sessionIsGone().then((gone) => (gone === true ? reportSignedOut() : retry()));
          return;
        }
        if (err?.status === 403) {
          window.location.assign(`/not-allowed?from=${encodeURIComponent(window.location.pathname)}`);
          return;
        }
        retry();
      });
      return channel;
    },
    [pusher, setChannelState],
  );
  const release = useCallback(
    (name: string) => {
      const left = (refCounts.current.get(name) ?? 1) - 1;
      if (left > 0) refCounts.current.set(name, left);
      else {
        refCounts.current.delete(name);
        clearTimeout(retries.current.get(name)?.timer);
        retries.current.delete(name);
        setChannelState(name, null);
        pusher?.unsubscribe(name);
      }
    },
    [pusher, setChannelState],
  );

  return <RealtimeContext.Provider value={{ state, channels, acquire, release }}>{children}</RealtimeContext.Provider>;
}

function useRealtime() {
  const value = useContext(RealtimeContext);
  if (!value) throw new Error("useRealtime must be used inside <RealtimeProvider>");
  return value;
}

export function useConnection() {
  const { state, channels } = useRealtime();
  return { state, channels };
}

/** The subscribed channel (null until the connection exists), held for the component's life. */
export function useChannel(name: string | null) {
  const { acquire, release } = useRealtime();
  const [channel, setChannel] = useState<Channel | null>(null);
  useEffect(() => {
    if (!name) return;
    const ch = acquire(name);
    setChannel(ch);
    return () => {
      if (ch) release(name);
      setChannel(null);
    };
  }, [name, acquire, release]);
  return channel;
}

/** Calls the latest `handler` for each of `events` on `channel` (a fixed list per component). */
export function useEvents<T>(channel: Channel | null, events: readonly string[], handler: (data: T) => void) {
  const latest = useRef(handler);
  latest.current = handler;
  const key = events.join(" ");
  useEffect(() => {
    if (!channel) return;
    const names = key.split(" ");
    const listener = (data: T) => latest.current(data);
    for (const name of names) channel.bind(name, listener);
    return () => {
      for (const name of names) channel.unbind(name, listener);
    };
  }, [channel, key]);
}

/** Calls the latest `handler` for each `event` on `channel`. */
export function useEvent<T>(channel: Channel | null, event: string, handler: (data: T) => void) {
  const latest = useRef(handler);
  latest.current = handler;
  useEffect(() => {
    if (!channel) return;
    const listener = (data: T) => latest.current(data);
    channel.bind(event, listener);
    return () => {
      channel.unbind(event, listener);
    };
  }, [channel, event]);
}

/**
 * What the banner says: nothing only while the connection and every channel of the page are live
 * and no data the page needs is failing to load (it is retried until it loads: a page opened in
 * an outage does not even know its channels until then).
 */
export function bannerMessage(
  state: ConnectionState,
  channels: ReadonlyMap<string, ChannelState>,
  starting: boolean,
  dataFailing = false,
): string {
  if (state === "failed") return "Live updates are unavailable in this browser. Reload to try again.";
  const states = [...channels.values()];
  const paused = states.includes("retrying") || dataFailing;
  if (state === "connected" && states.every((s) => s === "live") && !paused) return "";
  // The first connection and subscriptions take a moment; only a slow or failed one deserves a banner.
  if (starting && !paused) return "";
  if (state === "connected" && paused) return "Live updates paused — retrying";
  return "Reconnecting…";
}

/** True while a query of the page has failed with a retryable error and not loaded since. */
function useDataFailing() {
  const cache = useQueryClient().getQueryCache();
  return useSyncExternalStore(
    useCallback((notify) => cache.subscribe(notify), [cache]),
    () => cache.getAll().some((q) => q.state.fetchFailureCount > 0 && !isFinalError(q.state.fetchFailureReason)),
    () => false,
  );
}

/**
 * The browser's own word that the network is gone: told at once, where the socket would take
 * its ping timeout (~10 s) to notice.
 */
export function useBrowserOnline() {
  return useSyncExternalStore(
    useCallback((notify) => {
      window.addEventListener("online", notify);
      window.addEventListener("offline", notify);
      return () => {
        window.removeEventListener("online", notify);
        window.removeEventListener("offline", notify);
      };
    }, []),
    () => navigator.onLine,
    () => true,
  );
}

export function ConnectionBanner() {
  const { state, channels } = useConnection();
  const dataFailing = useDataFailing();
  const online = useBrowserOnline();
  const signedOut = useSignedOut();
  const [starting, setStarting] = useState(true);
  useEffect(() => {
    const timer = setTimeout(() => setStarting(false), 2500);
    return () => clearTimeout(timer);
  }, []);
  return (
    <div role="status" className="banner" aria-live="polite">
      {signedOut
        ? "You are signed out — what you write is kept and sent once you sign in again."
        : online
          ? bannerMessage(state, channels, starting, dataFailing)
          : "You are offline — what you write will be sent when you are back."}
    </div>
  );
}
