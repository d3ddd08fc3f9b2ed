"use client";

import type { IOneSignalOneSignal } from "react-onesignal";

/**
 * OneSignal is loaded only when the club configured an app id, and only in the staff portal.
 * Its SDK comes from OneSignal's CDN: blocked, offline or slow, it must never hold up the page,
 * so every step has a time limit and every failure becomes a state the settings panel explains.
 */
const LOAD_TIMEOUT_MS = 8000;
let loading: Promise<IOneSignalOneSignal> | null = null;

function withTimeout<T>(promise: Promise<T>, what: string): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${what} took too long`)), LOAD_TIMEOUT_MS);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err) => {
        clearTimeout(timer);
        reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

/** Initialises once per page and logs this staff member in, so pushes can target them by id. */
export function loadOneSignal(appId: string, staffUserId: string): Promise<IOneSignalOneSignal> {
  loading ??= (async () => {
    const { default: OneSignal } = await import("react-onesignal");
    await withTimeout(OneSignal.init({ appId, allowLocalhostAsSecureOrigin: true }), "Loading OneSignal");
    await withTimeout(OneSignal.login(staffUserId), "Signing in to OneSignal");
    return OneSignal;
  })();
  return loading;
}
