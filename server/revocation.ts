import { eq } from "drizzle-orm";
import type { Db } from "@/db/client";
import { user } from "@/db/schema";
import type { Auth } from "./auth";
import type { Publisher } from "./realtime/publisher";

/**
 * Ending access at once. A browser's realtime connection signs in (pusher:signin) as its
 * session, so ending a session can close exactly that session's sockets with the HTTP API's
 * `terminate_connections`, wherever they are, and leave the same person's other devices alone.
 */

/** The realtime user id of a session: opaque, and never the account's user id. */
export const realtimeUserId = (sessionId: string) => sessionId;

/** Closes every realtime connection signed in as this session. Never throws: sign-out must finish. */
export async function endRealtimeSession(publisher: Publisher, sessionId: string, log = console.error) {
  try {
    await publisher.terminateUserConnections(realtimeUserId(sessionId));
  } catch (err) {
    log(`[auth] could not close the realtime connections of an ended session: ${describeError(err)}`);
  }
}

/**
 * Deactivation: the account cannot sign in again (auth.ts refuses new sessions), and every
 * session it has ends now — each one's live connections with it (the session delete hook).
 */
export async function deactivateUser(deps: { db: Db; auth: Auth }, userId: string) {
  await deps.db.update(user).set({ deactivatedAt: new Date() }).where(eq(user.id, userId));
  const context = await deps.auth.$context;
  await context.internalAdapter.deleteUserSessions(userId);
}

export async function reactivateUser(db: Db, userId: string) {
  await db.update(user).set({ deactivatedAt: null }).where(eq(user.id, userId));
}

function describeError(err: unknown) {
  if (err && typeof err === "object" && "status" in err) return `HTTP ${(err as { status: number }).status}`;
  return err instanceof Error ? err.message : String(err);
}
