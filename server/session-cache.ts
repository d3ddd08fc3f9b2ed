import type { Auth } from "./auth";
import { warmUpSession } from "./warm-up-caller";

/**
 * Who a session cookie belongs to, remembered for at most SESSION_CACHE_MS per web process, so a
 * burst of requests from one page checks the session row once instead of every time (issue 11:
 * the check was a third of a send's cost). Issue 12 allows this bounded window:
 * - a session ended through better-auth in this process (sign-out, deactivation) is forgotten at
 *   once by auth.ts's session-delete hook, and its sockets are closed at once either way
 *   (revocation.ts);
 * - a session ended by another web process, or a row deleted by hand, is honoured here for at
 *   most SESSION_CACHE_MS more.
 * Only sessions are cached, never "no session": a fresh sign-in is seen at once.
 */
export const SESSION_CACHE_MS = 5000;
const MAX_ENTRIES = 10_000;

export type Session = NonNullable<Awaited<ReturnType<Auth["api"]["getSession"]>>>;
type Entry = { session: Session; until: number };

const globalKey = Symbol.for("floorline.session-cache");
const slot = globalThis as unknown as Record<symbol, Map<string, Entry> | undefined>;
// One per process (Next may load this module more than once): eviction must reach every copy.
slot[globalKey] ??= new Map<string, Entry>();
const entries = slot[globalKey];

/** The cookie that names the session; other cookies on the request do not change who it is. */
function sessionKey(headers: Headers): string | null {
  const cookie = headers.get("cookie");
  if (!cookie) return null;
  const match = /(?:^|;\s*)((?:__Secure-)?better-auth\.session_token)=([^;]+)/.exec(cookie);
  return match ? `${match[1]}=${match[2]}` : null;
}

export async function cachedSession(auth: Auth, headers: Headers, now = Date.now()): Promise<Session | null> {
  const key = sessionKey(headers);
  // No session cookie, no session (cookie sessions only: no bearer plugin). Anonymous requests,
  // hostile floods included, then cost no call into better-auth (~1 ms of CPU each, issue 11).
  // The warm-up's own caller has no cookie (warm-up-caller.ts decides, and never once it ends);
  // it is never cached, so nothing of it outlives the warm-up here.
  if (!key) return warmUpSession(headers);
  const hit = entries.get(key);
  if (hit && hit.until > now && new Date(hit.session.session.expiresAt).getTime() > now) return hit.session;
  entries.delete(key);
  const session = await auth.api.getSession({ headers });
  if (session) {
    if (entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value as string);
    entries.set(key, { session, until: now + SESSION_CACHE_MS });
  }
  return session;
}

/** A session that ended: no request in this process may use it again. */
export function forgetSession(sessionId: string) {
  for (const [key, entry] of entries) if (entry.session.session.id === sessionId) entries.delete(key);
}
