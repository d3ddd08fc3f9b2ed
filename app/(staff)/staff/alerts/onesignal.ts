"use client";

import type { IOneSignalOneSignal } from "react-onesignal";

/**
 * OneSignal web push, optional. The SDK is imported only when the club configured an app id, and
 * it loads its real code from OneSignal's CDN: blocked by an ad blocker, offline, or hanging, it
 * must never hold up or break the staff page. So every step has a time limit, every failure
 * becomes a `PushState` with a reason the settings panel shows, and nothing here asks for
 * notification permission: only the "Enable push notifications" button does (see `enablePush`).
 */

export type PushState =
  | { status: "not-configured" }
  | { status: "loading" }
  | { status: "unavailable"; reason: string }
  | { status: "off" }
  | { status: "on" };

export type OneSignalApi = IOneSignalOneSignal;

export const ONESIGNAL_TIMEOUT_MS = 8000;

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const limit = ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`;
    const timer = setTimeout(() => reject(new Error(`${what} did not finish within ${limit}`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (err: unknown) => {
        clearTimeout(timer);
        reject(err);
      },
    );
  });
}

/** A reason a person can read, from whatever the SDK threw (react-onesignal rejects with strings too). */
export function describePushError(err: unknown): string {
  const text = err instanceof Error ? err.message : typeof err === "string" ? err : "";
  if (/script failed to load|Failed to fetch dynamically imported module|Loading chunk/i.test(text)) {
    return "the OneSignal service could not be reached (offline or blocked by the network or an ad blocker)";
  }
  if (/does not support web push/i.test(text)) return "this browser does not support web push";
  if (/did not finish within/i.test(text)) return `${text} (offline or blocked?)`;
  return text.trim() || "OneSignal failed to start";
}

/** What stops web push here before even trying; null when it may work. Pure, for tests. */
export function pushSupportProblem(env: {
  secureContext: boolean;
  serviceWorker: boolean;
  pushManager: boolean;
  permission: NotificationPermission | "unsupported";
}): string | null {
  if (!env.secureContext) return "the staff portal is not served over HTTPS";
  if (!env.serviceWorker || !env.pushManager || env.permission === "unsupported") {
    return "this browser does not support web push";
  }
  if (env.permission === "denied") return "notifications are blocked for this site in the browser's settings";
  return null;
}

export function browserPushSupportProblem() {
  return pushSupportProblem({
    secureContext: window.isSecureContext,
    serviceWorker: "serviceWorker" in navigator,
    pushManager: "PushManager" in window,
    permission: typeof Notification === "undefined" ? "unsupported" : Notification.permission,
  });
}

// The SDK can be initialised once per page: a failed or timed-out init cannot be retried without
// a reload, so its promise (fulfilled or not) is kept. Login can be retried.
let initialised: { appId: string; promise: Promise<OneSignalApi> } | null = null;
let loggedIn: { externalId: string; promise: Promise<void> } | null = null;

/**
 * Initialises OneSignal (without any permission prompt) and logs this staff member in by their
 * opaque push id (server/notify/push-identity.ts), so the server can target them by external id. Rejects on failure or timeout.
 */
export async function connectOneSignal(
  appId: string,
  externalId: string,
  timeoutMs = ONESIGNAL_TIMEOUT_MS,
): Promise<OneSignalApi> {
  if (initialised && initialised.appId !== appId) throw new Error("OneSignal is already set up for another app");
  initialised ??= {
    appId,
    promise: (async () => {
      const { default: OneSignal } = await withTimeout(import("react-onesignal"), timeoutMs, "Loading OneSignal");
      await withTimeout(
        OneSignal.init({
          appId,
          // Never prompt on load; the dashboard's "Typical site" prompt settings may override this,
          // so configure the app's prompt as "Custom code" there.
          promptOptions: { slidedown: { prompts: [{ type: "push", autoPrompt: false, delay: {} }] } },
          allowLocalhostAsSecureOrigin: true,
        }),
        timeoutMs,
        "Starting OneSignal",
      );
      return OneSignal;
    })(),
  };
  const OneSignal = await initialised.promise;
  if (loggedIn?.externalId !== externalId) {
    const attempt = withTimeout(OneSignal.login(externalId), timeoutMs, "Signing in to OneSignal");
    loggedIn = { externalId, promise: attempt };
    attempt.catch(() => {
      if (loggedIn?.promise === attempt) loggedIn = null; // let the next call try again
    });
  }
  await loggedIn?.promise;
  return OneSignal;
}

/**
 * Sign-out: this browser stops being the staff member's push device (a shared club PC must not
 * keep getting their pushes). Only if OneSignal was started on this page; bounded in time, and
 * a failure never holds up the sign-out.
 */
export async function logOutOfOneSignal(timeoutMs = 3000) {
  if (!initialised) return;
  try {
    const OneSignal = await withTimeout(initialised.promise, timeoutMs, "Starting OneSignal");
    await withTimeout(OneSignal.logout(), timeoutMs, "Signing out of OneSignal");
  } catch {
    // Offline or blocked: the sign-out itself matters more.
  }
  loggedIn = null;
}

export function pushStateOf(OneSignal: OneSignalApi): PushState {
  return OneSignal.User.PushSubscription.optedIn ? { status: "on" } : { status: "off" };
}

/** The explicit opt-in: this is where the browser's permission prompt may appear. */
export async function enablePush(appId: string, externalId: string): Promise<PushState> {
  try {
    const OneSignal = await connectOneSignal(appId, externalId);
    await OneSignal.User.PushSubscription.optIn();
    return pushStateOf(OneSignal);
  } catch (err) {
    return { status: "unavailable", reason: describePushError(err) };
  }
}

export async function disablePush(appId: string, externalId: string): Promise<PushState> {
  try {
    const OneSignal = await connectOneSignal(appId, externalId);
    await OneSignal.User.PushSubscription.optOut();
    return pushStateOf(OneSignal);
  } catch (err) {
    return { status: "unavailable", reason: describePushError(err) };
  }
}
