"use client";

import { useEffect, useRef, useState } from "react";
import { loadOneSignal } from "./onesignal";
import { setMuted, useMuted } from "./sound";

type PushState =
  | { status: "not-configured" }
  | { status: "loading" }
  | { status: "unavailable"; reason: string }
  | { status: "off" }
  | { status: "on" };

type BrowserPermission = NotificationPermission | "unsupported";

/** The staff member's alert switches: sound, browser notifications, and OneSignal push. */
export function StaffAlertSettings({ appId, staffUserId }: { appId: string | undefined; staffUserId: string }) {
  const muted = useMuted();
  const [permission, setPermission] = useState<BrowserPermission>("default");
  const [push, setPush] = useState<PushState>(appId ? { status: "loading" } : { status: "not-configured" });
  const panel = useRef<HTMLDetailsElement>(null);

  useEffect(() => {
    // A popover: a click elsewhere or Escape closes it, so it never sits over the chat's buttons.
    const closeOutside = (event: PointerEvent) => {
      if (panel.current?.open && !panel.current.contains(event.target as Node)) panel.current.open = false;
    };
    const closeOnEscape = (event: KeyboardEvent) => {
      if (event.key === "Escape" && panel.current) panel.current.open = false;
    };
    document.addEventListener("pointerdown", closeOutside);
    document.addEventListener("keydown", closeOnEscape);
    return () => {
      document.removeEventListener("pointerdown", closeOutside);
      document.removeEventListener("keydown", closeOnEscape);
    };
  }, []);

  useEffect(() => {
    setPermission(typeof Notification === "undefined" ? "unsupported" : Notification.permission);
  }, []);

  useEffect(() => {
    if (!appId) return;
    let live = true;
    loadOneSignal(appId, staffUserId).then(
      (os) => live && setPush({ status: os.User.PushSubscription.optedIn ? "on" : "off" }),
      (err: Error) => live && setPush({ status: "unavailable", reason: err.message }),
    );
    return () => {
      live = false;
    };
  }, [appId, staffUserId]);

  async function enablePush() {
    if (!appId) return;
    try {
      const os = await loadOneSignal(appId, staffUserId);
      await os.User.PushSubscription.optIn();
      setPush({ status: os.User.PushSubscription.optedIn ? "on" : "off" });
    } catch (err) {
      setPush({ status: "unavailable", reason: err instanceof Error ? err.message : String(err) });
    }
  }

  return (
    <details className="alert-settings" ref={panel}>
      <summary>Alerts</summary>
      <div className="stack">
        <label className="toggle">
          <input type="checkbox" checked={muted} onChange={(e) => setMuted(e.target.checked)} />
          Mute alert sound
        </label>
        <p className="small">
          Browser notifications:{" "}
          {permission === "granted"
            ? "on"
            : permission === "denied"
              ? "blocked in this browser"
              : permission === "unsupported"
                ? "not supported here"
                : "off"}
        </p>
        {permission === "default" && (
          <button type="button" onClick={async () => setPermission(await Notification.requestPermission())}>
            Allow browser notifications
          </button>
        )}
        <p className="small" role="status">
          Push notifications: {describePush(push)}
        </p>
        {push.status === "off" && (
          <button type="button" onClick={enablePush}>
            Enable push notifications
          </button>
        )}
      </div>
    </details>
  );
}

function describePush(push: PushState) {
  switch (push.status) {
    case "not-configured":
      return "not set up for this club";
    case "loading":
      return "checking…";
    case "unavailable":
      return `unavailable (${push.reason})`;
    case "off":
      return "off";
    case "on":
      return "on";
  }
}
