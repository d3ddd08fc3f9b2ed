import { createHmac } from "node:crypto";

/**
 * The OneSignal external id of a staff member: stable and opaque. OneSignal (its dashboard, the
 * browser's stored subscription) never holds a Floorline user id, and it cannot be turned back
 * into one without the server's secret.
 */
export function pushIdentity(secret: string) {
  return (staffUserId: string) =>
    `staff-${createHmac("sha256", secret).update(`onesignal:${staffUserId}`).digest("hex").slice(0, 32)}`;
}
