import type { Player, Staff } from "@/db/schema";

/** Who is acting, resolved from the session once by the transport layer. */
export type PlayerActor = Pick<Player, "id" | "displayName" | "userId">;
export type StaffActor = Pick<Staff, "userId" | "displayName">;
