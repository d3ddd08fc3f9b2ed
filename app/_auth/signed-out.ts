"use client";

import { useSyncExternalStore } from "react";

/**
 * The one rule for a refused session (a 401 from any call: tRPC, a channel authorization, a
 * send): the tab stays where it is and shows "Signed out — sign in again". Navigating away at the
 * first refusal raced the other calls that fail at the same moment and could drop the reader on
 * the sign-in page mid-sentence; staying puts everything the user wrote (drafts, the outbox) in
 * front of them, kept in localStorage, and the link brings them back to this page to send it.
 * Signed out is for the rest of this page's life: signing in reloads it.
 */
let signedOut = false;
const listeners = new Set<() => void>();

export function reportSignedOut() {
  if (signedOut) return;
  signedOut = true;
  for (const notify of listeners) notify();
}

export function isSignedOut() {
  return signedOut;
}

export function onSignedOut(notify: () => void) {
  listeners.add(notify);
  return () => {
    listeners.delete(notify);
  };
}

export function useSignedOut() {
  return useSyncExternalStore(onSignedOut, isSignedOut, () => false);
}

/** Sign in, then come back to exactly this page (the open chat included). */
export function signInAgainHref() {
  return `/sign-in?ended&next=${encodeURIComponent(window.location.pathname + window.location.search)}`;
}
