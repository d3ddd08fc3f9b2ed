import { env } from "@/env";
import type { Auth } from "../auth";
import { getAuth } from "../auth";
import type { ChatDeps } from "../chat/actions";
import { getDb } from "../db";
import { getPublisher } from "../publisher";
import type { Publisher } from "../realtime/publisher";
import { getChatNotifications, getRealtimeGateway } from "../services";

/** Everything a route handler needs, passed in so tests can hand it their own database. */
export type HttpDeps = ChatDeps & { auth: Auth; publisher: Publisher };

/**
 * One object per process: every part is already a process-wide singleton, and building it on
 * each request was a Promise.all and an object per API call (issue 11). Kept only once built, so
 * a start-up failure (database unreachable) is retried by the next request.
 */
let built: HttpDeps | undefined;

export async function httpDeps(): Promise<HttpDeps> {
  built ??= await buildHttpDeps();
  return built;
}

async function buildHttpDeps(): Promise<HttpDeps> {
  const [{ db }, auth] = await Promise.all([getDb(), getAuth()]);
  return {
    db,
    auth,
    publisher: getPublisher(),
    realtime: getRealtimeGateway(),
    notifications: getChatNotifications(db),
    autoAssign: env.AUTO_ASSIGN_CHATS,
    sendLimit: { burst: env.PLAYER_SEND_BURST, perSecond: env.PLAYER_SEND_PER_SECOND },
  };
}
