"use client";

import { useSyncExternalStore } from "react";

const never = () => () => {};

/**
 * False in the server-rendered HTML and during hydration, true once this page's scripts run. A
 * control whose work is a click handler is disabled until then: before hydration a click on it
 * does nothing at all (no confirm, no request), which a busy phone or a quick admin hits.
 */
export function useHydrated() {
  return useSyncExternalStore(
    never,
    () => true,
    () => false,
  );
}
