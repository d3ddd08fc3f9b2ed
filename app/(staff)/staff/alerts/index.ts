/*
 * Staff alerts: alert tone, tab-title count, browser notifications, OneSignal push settings.
 *
 * Wiring in app/(staff)/staff/staff-portal.tsx (replacing the imports from "../../_alerts/…",
 * which hold the earlier version of this feature; keep only one of the two mounted, or every
 * event rings twice):
 *
 *   import { StaffAlertSettings, useStaffAlerts } from "./alerts";
 *
 *   // in StaffPortal, after useStaffLive(me):
 *   useStaffAlerts({ me, queue: queue.data, viewingRequestId: selectedId });
 *
 *   // in the header's <div className="row">, before {signOut}:
 *   <StaffAlertSettings appId={oneSignalAppId} me={me} />
 *
 * page.tsx already passes `oneSignalAppId`. Push delivery (not the rest) also needs OneSignal's
 * service worker at the site root, e.g. public/OneSignalSDKWorker.js containing
 *   importScripts("https://cdn.onesignal.com/sdks/web/v16/OneSignalSDK.sw.js");
 */
export type { PushState } from "./onesignal";
export { StaffAlertSettings } from "./push-settings";
export { type Alert, type AlertEvent, attentionCount, decideAlert, titleWithCount } from "./rules";
export { isAudioUnlocked, playAlertSound, useMuted, writeMuted } from "./sound";
export { TabLeaderElection, useIsLeaderTab } from "./tab-leader";
export { type StaffAlertsOptions, useStaffAlerts } from "./use-staff-alerts";
