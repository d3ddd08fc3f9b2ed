import { randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import type { Player, Staff } from "@/db/schema";
import type { Session } from "./session-cache";

/**
 * The warm-up's own signed-in caller (server/http/warm-up.ts, issue 11). Anonymous requests stop
 * at the session check, so before this the signed-in code (a page's render with its client
 * components, staff.queue through tRPC, the send, channel authorization) was loaded and compiled
 * by the first real users after a start. The warm-up signs in with this instead of a user row:
 * - a secret of 32 random bytes made when the warm-up opens it, held in this process only (on
 *   globalThis: Next's bundle and serve.ts load this module separately) and dropped when the
 *   warm-up closes it, before the server listens; a request is this caller only with that secret,
 *   in the WARM_UP_HEADER, while it is held;
 * - a staff member and a player whose user ids (random, per start) no row has: their records are
 *   made here (warmUpStaff / warmUpPlayer), so reads find nothing of anyone's and the statements
 *   that write (the send, the reply) find no player or staff row and refuse, writing nothing.
 * The session check (session-cache.ts cachedSession, for pages, tRPC and REST) asks warmUpSession
 * for a request without a session cookie; it is the one place that decides.
 */
export const WARM_UP_HEADER = "x-floorline-warm-up";

export type WarmUpRole = "staff" | "player";

type Caller = { secret: Buffer; userIds: Record<WarmUpRole, string> };

const globalKey = Symbol.for("floorline.warm-up-caller");
const slot = globalThis as unknown as Record<symbol, Caller | undefined>;

/** Starts accepting a new secret (and only it); `close` stops for good. */
export function openWarmUpCaller() {
  const caller: Caller = {
    secret: randomBytes(32),
    userIds: { staff: `warm-up-staff-${randomUUID()}`, player: `warm-up-player-${randomUUID()}` },
  };
  slot[globalKey] = caller;
  return {
    headers: (role: WarmUpRole) => ({ [WARM_UP_HEADER]: `${role}.${caller.secret.toString("base64url")}` }),
    close: () => {
      if (slot[globalKey] === caller) slot[globalKey] = undefined;
    },
  };
}

/** The warm-up caller's session when `headers` carry the secret while it is held; else null. */
export function warmUpSession(headers: Headers): Session | null {
  const caller = slot[globalKey];
  if (!caller) return null;
  const [role, secret] = (headers.get(WARM_UP_HEADER) ?? "").split(".");
  if ((role !== "staff" && role !== "player") || !secret) return null;
  const given = Buffer.from(secret, "base64url");
  if (given.length !== caller.secret.length || !timingSafeEqual(given, caller.secret)) return null;
  const userId = caller.userIds[role];
  const now = new Date();
  // Shaped as better-auth's, so every reader of a session takes it as it takes a real one.
  return {
    session: {
      id: `${userId}-session`,
      token: "",
      userId,
      expiresAt: new Date(now.getTime() + 60_000),
      createdAt: now,
      updatedAt: now,
      ipAddress: null,
      userAgent: null,
    },
    user: {
      id: userId,
      name: "Warm-up",
      email: `${userId}@warm-up.invalid`,
      emailVerified: true,
      image: null,
      createdAt: now,
      updatedAt: now,
      role,
      mustChangePassword: false,
    },
  } as Session;
}

/** The warm-up staff member's record (no row has it), for its user id while the warm-up runs. */
export function warmUpStaff(userId: string): Staff | null {
  if (slot[globalKey]?.userIds.staff !== userId) return null;
  return { userId, displayName: "Warm-up", acceptingChats: false, maxConcurrentChats: 0 };
}

/** The warm-up player's id: serial ids start at 1, so every read by it finds no one's messages or requests. */
export const WARM_UP_PLAYER_ID = 0;

/** The warm-up player's record (no row has it). */
export function warmUpPlayer(userId: string): Player | null {
  if (slot[globalKey]?.userIds.player !== userId) return null;
  return {
    id: WARM_UP_PLAYER_ID,
    userId,
    displayName: "Warm-up",
    balance: "0",
    creditLimit: "0",
    creditUsed: "0",
    lastSeq: 0,
    sendAllowanceAt: null,
  };
}
