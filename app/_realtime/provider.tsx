"use client";

import Pusher, { type Channel } from "pusher-js";
import { createContext, useCallback, useContext, useEffect, useRef, useState } from "react";
import type { BrowserRealtimeConfig } from "@/env";
import { watchSession } from "../_auth/session-watch";
import { setCurrentSocketId } from "./socket-id";

export type ConnectionState = "initialized" | "connecting" | "connected" | "unavailable" | "failed" | "disconnected";

type RealtimeContextValue = {
  state: ConnectionState;
  /** Increments each time the connection comes back after a drop: caches may have missed events. */
  reconnects: number;
  acquire: (channelName: string) => Channel | null;
  release: (channelName: string) => void;
};

const RealtimeContext = createContext<RealtimeContextValue | null>(null);

/**
 * One pusher-js connection per tab, shared by every hook below it. Channels are reference
 * counted, so two components listening on one channel don't unsubscribe each other.
 */
export function RealtimeProvider({ config, children }: { config: BrowserRealtimeConfig; children: React.ReactNode }) {
  const [pusher, setPusher] = useState<Pusher | null>(null);
  const [state, setState] = useState<ConnectionState>("initialized");
  const [reconnects, setReconnects] = useState(0);
  const refCounts = useRef(new Map<string, number>());

  useEffect(() => {
    const client = new Pusher(config.key, {
      cluster: config.cluster,
      ...(config.wsHost !== undefined ? { wsHost: config.wsHost ?? window.location.hostname } : {}),
      ...(config.wsPort !== undefined ? { wsPort: config.wsPort, wssPort: config.wsPort } : {}),
      forceTLS: config.forceTLS,
      enabledTransports: ["ws", "wss"],
      disableStats: true,
      // Notice a dead link within seconds, not the default half minute: players are on phones.
      pongTimeout: 6000,
      channelAuthorization: { endpoint: "/api/realtime/auth", transport: "ajax" },
      userAuthentication: { endpoint: "/api/realtime/user-auth", transport: "ajax" },
    });
    const stopWatchingSession = watchSession(client);
    let wasConnected = false;
    client.connection.bind("state_change", ({ current }: { current: ConnectionState }) => {
      setState(current);
      setCurrentSocketId(current === "connected" ? client.connection.socket_id : null);
      if (current === "connected") {
        if (wasConnected) setReconnects((n) => n + 1);
        wasConnected = true;
      }
    });
    setPusher(client);
    return () => {
      stopWatchingSession();
      setCurrentSocketId(null);
      client.disconnect();
    };
  }, [config]);

  const acquire = useCallback(
    (name: string) => {
      if (!pusher) return null;
      refCounts.current.set(name, (refCounts.current.get(name) ?? 0) + 1);
      return pusher.channel(name) ?? pusher.subscribe(name);
    },
    [pusher],
  );
  const release = useCallback(
    (name: string) => {
      const left = (refCounts.current.get(name) ?? 1) - 1;
      if (left > 0) refCounts.current.set(name, left);
      else {
        refCounts.current.delete(name);
        pusher?.unsubscribe(name);
      }
    },
    [pusher],
  );

  return (
    <RealtimeContext.Provider value={{ state, reconnects, acquire, release }}>{children}</RealtimeContext.Provider>
  );
}

function useRealtime() {
  const value = useContext(RealtimeContext);
  if (!value) throw new Error("useRealtime must be used inside <RealtimeProvider>");
  return value;
}

export function useConnection() {
  const { state, reconnects } = useRealtime();
  return { state, reconnects };
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

export function ConnectionBanner() {
  const { state } = useConnection();
  const [grace, setGrace] = useState(true);
  useEffect(() => {
    // The first connection takes a moment; only a slow or failed one deserves a banner.
    const timer = setTimeout(() => setGrace(false), 2500);
    return () => clearTimeout(timer);
  }, []);
  const message =
    state === "connected" || (grace && (state === "initialized" || state === "connecting"))
      ? ""
      : state === "failed"
        ? "Live updates are unavailable in this browser. Reload to try again."
        : "Reconnecting…";
  return (
    <div role="status" className="banner" aria-live="polite">
      {message}
    </div>
  );
}
