"use client";

import { TRPCClientError } from "@trpc/client";
import { useEffect, useState } from "react";

/** How long the server asked us to wait before sending again (TOO_MANY_REQUESTS), or null. */
export function sendLimitWaitMs(err: unknown): number | null {
  if (!(err instanceof TRPCClientError) || err.data?.code !== "TOO_MANY_REQUESTS") return null;
  const seconds = Number(err.data?.retryAfterSeconds);
  return Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 1000;
}

/** "Slow down — sending again in N s", counting down to `until` (a Date.now() time); nothing after. */
export function SlowDownNotice({ until }: { until: number | null }) {
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (until === null) return;
    setNow(Date.now());
    const timer = setInterval(() => setNow(Date.now()), 250);
    return () => clearInterval(timer);
  }, [until]);
  const seconds = until === null ? 0 : Math.ceil((until - now) / 1000);
  return (
    <p className="status-line" role="status" aria-live="polite">
      {seconds > 0 ? `Slow down — sending again in ${seconds} s` : ""}
    </p>
  );
}
