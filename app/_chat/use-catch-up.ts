"use client";

import { useEffect, useRef } from "react";
import { useConnection } from "../_realtime/provider";

/**
 * Runs `catchUp` when this tab may have missed events: after the realtime connection comes
 * back, and when the tab becomes visible again (phones freeze hidden tabs).
 */
export function useCatchUp(catchUp: () => void) {
  const { reconnects } = useConnection();
  const latest = useRef(catchUp);
  latest.current = catchUp;

  useEffect(() => {
    if (reconnects > 0) latest.current();
  }, [reconnects]);

  useEffect(() => {
    const onVisible = () => {
      if (document.visibilityState === "visible") latest.current();
    };
    document.addEventListener("visibilitychange", onVisible);
    return () => document.removeEventListener("visibilitychange", onVisible);
  }, []);
}
