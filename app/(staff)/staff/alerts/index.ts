/*
 * Staff alerts: alert tone, tab-title count, browser notifications, OneSignal push settings.
 * Mounted once by staff-portal.tsx (`useStaffAlerts`, `<StaffAlertSettings>`, `<SoundLockedNotice>`).
 * Push delivery also needs OneSignal's service worker at the site root: public/OneSignalSDKWorker.js.
 */
export type { PushState } from "./onesignal";
export { StaffAlertSettings } from "./push-settings";
export { type Alert, type AlertEvent, attentionCount, decideAlert, titleWithCount } from "./rules";
export { isAudioUnlocked, playAlertSound, useMuted, writeMuted } from "./sound";
export { SoundLockedNotice } from "./sound-notice";
export { TabLeaderElection, useIsLeaderTab } from "./tab-leader";
export { type StaffAlertsOptions, useStaffAlerts } from "./use-staff-alerts";
