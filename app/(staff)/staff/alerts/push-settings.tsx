"use client";

import { useEffect, useRef, useState } from "react";
import { useHydrated } from "../../../_ui/use-hydrated";
import {
  browserPushSupportProblem,
  connectOneSignal,
  describePushError,
  disablePush,
  enablePush,
  type OneSignalApi,
  type PushState,
  pushStateOf,
} from "./onesignal";
import { useMuted, writeMuted } from "./sound";

type BrowserPermission = NotificationPermission | "unsupported";

const readPermission = (): BrowserPermission =>
  typeof Notification === "undefined" ? "unsupported" : Notification.permission;

/** Follows the browser's notification permission, also when it changes in the site settings. */
function useNotificationPermission() {
  // "default" on the server and in the first render: the real value is read after hydration.
  const [permission, setPermission] = useState<BrowserPermission>("default");
  useEffect(() => {
    setPermission(readPermission());
    let status: PermissionStatus | null = null;
    let live = true;
    const onChange = () => setPermission(readPermission());
    navigator.permissions
      ?.query({ name: "notifications" })
      .then((s) => {
        if (!live) return;
        status = s;
        s.addEventListener("change", onChange);
      })
      .catch(() => {}); // Permissions API missing or not knowing "notifications": reads suffice
    return () => {
      live = false;
      status?.removeEventListener("change", onChange);
    };
  }, []);
  return [permission, () => setPermission(readPermission())] as const;
}

/**
 * Connects OneSignal once the page is up, only with an app id, and never prompts: it only reads
 * whether this browser is already subscribed. Failures turn into "unavailable" with the reason.
 */
function usePushState(appId: string | undefined, externalId: string) {
  const [push, setPush] = useState<PushState>(appId ? { status: "loading" } : { status: "not-configured" });
  useEffect(() => {
    if (!appId) {
      setPush({ status: "not-configured" });
      return;
    }
    const problem = browserPushSupportProblem();
    if (problem) {
      setPush({ status: "unavailable", reason: problem });
      return;
    }
    setPush({ status: "loading" });
    let live = true;
    let os: OneSignalApi | null = null;
    const onSubscriptionChange = () => os && live && setPush(pushStateOf(os));
    connectOneSignal(appId, externalId).then(
      (connected) => {
        if (!live) return;
        os = connected;
        setPush(pushStateOf(connected));
        connected.User.PushSubscription.addEventListener("change", onSubscriptionChange);
      },
      (err: unknown) => live && setPush({ status: "unavailable", reason: describePushError(err) }),
    );
    return () => {
      live = false;
      os?.User.PushSubscription.removeEventListener("change", onSubscriptionChange);
    };
  }, [appId, externalId]);
  return [push, setPush] as const;
}

function describeBrowserPermission(permission: BrowserPermission) {
  switch (permission) {
    case "granted":
      return "allowed";
    case "denied":
      return "blocked (allow them in the browser's site settings)";
    case "unsupported":
      return "not supported in this browser";
    default:
      return "not allowed yet";
  }
}

function describePush(push: PushState) {
  switch (push.status) {
    case "not-configured":
      return "not configured for this club";
    case "loading":
      return "checking…";
    case "unavailable":
      return `unavailable: ${push.reason}`;
    case "off":
      return "off";
    case "on":
      return "on";
  }
}

/**
 * The staff member's alert switches, in a small popover in the header: alert sound, browser
 * notifications (while the portal is open) and OneSignal push (also when it is closed).
 */
export function StaffAlertSettings({ appId, me }: { appId: string | undefined; me: { pushId: string } }) {
  const muted = useMuted();
  const [permission, refreshPermission] = useNotificationPermission();
  const [push, setPush] = usePushState(appId, me.pushId);
  const [busy, setBusy] = useState(false);
  const hydrated = useHydrated();
  const panel = useRef<HTMLDetailsElement>(null);

  useEffect(() => {
    // A popover: a click elsewhere or Escape closes it, so it never covers the chat's controls.
    const closeOutside = (event: PointerEvent) => {
      if (panel.current?.open && event.target instanceof Node && !panel.current.contains(event.target)) {
        panel.current.open = false;
      }
    };
    const closeOnEscape = (event: KeyboardEvent) => {
      if (event.key === "Escape" && panel.current?.open) panel.current.open = false;
    };
    document.addEventListener("pointerdown", closeOutside);
    document.addEventListener("keydown", closeOnEscape);
    return () => {
      document.removeEventListener("pointerdown", closeOutside);
      document.removeEventListener("keydown", closeOnEscape);
    };
  }, []);

  async function allowBrowserNotifications() {
    try {
      await Notification.requestPermission();
    } finally {
      refreshPermission();
    }
  }

  async function changePush(action: typeof enablePush) {
    if (!appId) return;
    setBusy(true);
    try {
      setPush(await action(appId, me.pushId));
    } finally {
      setBusy(false);
      refreshPermission(); // opting in may just have asked for (and set) the browser permission
    }
  }

  return (
    <details className="alert-settings" ref={panel}>
      <summary>Alerts</summary>
      <div className="stack">
        <label className="toggle">
          <input type="checkbox" checked={muted} onChange={(e) => writeMuted(e.target.checked)} />
          Mute alert sound
        </label>

        <p className="small">Browser notifications: {describeBrowserPermission(permission)}</p>
        {permission === "default" && (
          <button type="button" disabled={!hydrated} onClick={allowBrowserNotifications}>
            Allow browser notifications
          </button>
        )}

        <p className="small" role="status">
          Push notifications: {describePush(push)}
        </p>
        {push.status === "off" && permission !== "denied" && (
          <button type="button" disabled={busy} onClick={() => changePush(enablePush)}>
            Enable push notifications
          </button>
        )}
        {push.status === "on" && (
          <button type="button" disabled={busy} onClick={() => changePush(disablePush)}>
            Turn off push notifications
          </button>
        )}
      </div>
    </details>
  );
}
