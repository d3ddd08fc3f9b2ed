import { createHmac } from "node:crypto";
import { env } from "@/env";

/**
 * A staff member's public id: stable and opaque. It is their OneSignal external id and their
 * member id on presence channels a player shares (presence-viewing), so neither OneSignal nor a
 * player ever holds a Floorline user id, and it cannot be turned back into one without the
 * server's secret.
 */
export function pushIdentity(secret: string) {
  return (staffUserId: string) =>
    `staff-${createHmac("sha256", secret).update(`onesignal:${staffUserId}`).digest("hex").slice(0, 32)}`;
}

/** With this server's secret. */
export const staffPublicId = (staffUserId: string) => pushIdentity(env.BETTER_AUTH_SECRET)(staffUserId);
