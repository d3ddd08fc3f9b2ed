"use client";

import { useRouter } from "next/navigation";
import { startTransition, useEffect } from "react";

const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 15_000;
/** A failure this long after the previous one starts a new streak (back-off from the start). */
const STREAK_GAP_MS = 60_000;

/**
 * Failures of this tab's page in a row. Kept outside the component: each failed retry renders
 * this boundary afresh, so its own state would start over every time.
 */
const streak = { attempts: 0, lastFailureAt: 0 };

export function retryDelay(attempts: number) {
  return Math.min(RETRY_MAX_MS, RETRY_FIRST_MS * 2 ** attempts);
}

/**
 * The error boundary of a portal page (its `error.tsx`). The page's server components could not
 * render — the database was down while the session was checked or the page's data loaded, and
 * the browser is told only a reference (the error's digest). Instead of the bare error page, the
 * portal says live updates are paused and renders the page again on the server with back-off,
 * without a reload, until it works; the page then loads everything it shows from the database
 * (and subscribes to its channels), so nothing from the outage is missed.
 */
export default function PageOutage({ error, reset }: { error: Error & { digest?: string }; reset: () => void }) {
  const router = useRouter();
  // biome-ignore lint/correctness/useExhaustiveDependencies: each new `error` is another failed try: schedule the next
  useEffect(() => {
    const now = Date.now();
    if (now - streak.lastFailureAt > STREAK_GAP_MS) streak.attempts = 0;
    streak.lastFailureAt = now;
    const timer = setTimeout(
      () => {
        // Both in one transition: the boundary keeps showing this until the new render is ready,
        // and shows it again (a new `error`, so a new timer) if that one fails too.
        startTransition(() => {
          router.refresh();
          reset();
        });
      },
      retryDelay(streak.attempts++),
    );
    return () => clearTimeout(timer);
  }, [error, reset, router]);
  return (
    <div className="portal">
      <div role="status" className="banner" aria-live="polite">
        Live updates paused — retrying
      </div>
      <p className="small">
        This page could not load just now; it will try again by itself.
        {error.digest ? ` (reference ${error.digest})` : ""}
      </p>
    </div>
  );
}
