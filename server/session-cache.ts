import type { Auth } from "./auth";
import { type SessionCookie, sessionCookie, signedSessionToken } from "./session-cookie";
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
 *
 * Pages (auth.ts getSession), tRPC and the REST routes all ask here: one rule for who a request is.
 *
 * One read (readSession), for a cookie not held here and for the re-read that renews a held entry:
 * - a cookie not held here (lookUp) first has its signature checked as better-auth checks it
 *   (session-cookie.ts: same secret, cookie name and format), so a forged, tampered or other-secret
 *   cookie is refused before any read. An entry exists only for a cookie whose signature was good:
 *   the key is the whole signed value, so a forged or other user's cookie never names one.
 * - the session is then read by its token (auth.ts sessionByToken): the session row and its user
 *   in one prepared SELECT, or with sessions in secondary storage (Redis) better-auth's own
 *   findSession, the read its getSession makes (the Redis record, its revocation mark, the row when
 *   Redis has none). A missing session is no session; an expired one, or one due for better-auth's
 *   extension, goes to getSession (which deletes the first and extends the second: a cheap read
 *   would never extend an active session); otherwise the read's answer is getSession's, in its
 *   shape, so a changed user row (name, role) is seen by the next re-read. Another process may
 *   have moved expiresAt since an entry was stored: the read decides, not the entry.
 * Before, every lookup was a getSession, whose path for a session that exists ran uncompiled on the
 * first signed-in request after a start (issue 11: 10–31 ms), and a re-read cost about an eighth of
 * one (bench/README.md "Paced sends"); sessions in Redis took getSession on every read until
 * 2026-11-27 (bench/README.md "Sessions in Redis"). The warm-up runs this path with a cookie for
 * nobody's session without writing a row.
 * Either way it reads the session's store as getSession would, so issue 12's bound is unchanged: an
 * ended session is seen by the next refresh, and no answer is served past SESSION_CACHE_MS from the
 * start of the read that stored it.
 */
export const SESSION_CACHE_MS = 5000;
/**
 * A hit this close to the end of its window answers from the cache at once and starts one re-read
 * in the background, whose answer renews the window from when that re-read began. A page sending
 * every second then never waits for the session check (issue 11: without this one send in five
 * paid a lookup, and a bench's players all paid it in the same second every 5 s). 1 s is hundreds
 * of times a re-read or even a getSession (a few ms of CPU plus database round trips on a loaded
 * machine), so the refresh is back before the window ends; a smaller part would refresh less often
 * but leave less slack on a busy machine. It does not lengthen what issue 12 allows: an entry is
 * never served past SESSION_CACHE_MS from the start of the read that stored it.
 */
export const REFRESH_AHEAD_MS = 1000;
const MAX_ENTRIES = 10_000;

export type Session = NonNullable<Awaited<ReturnType<Auth["api"]["getSession"]>>>;
type Entry = { session: Session; until: number };
type Cache = {
  entries: Map<string, Entry>;
  /** Keys with a background refresh in flight: at most one each. */
  refreshing: Set<string>;
  /**
   * Counts forgetSession calls. A lookup's answer is stored only if none came while it was in
   * flight: it may have read a session that has ended since (sign-out, deactivation).
   */
  revocations: number;
};

// Named anew when its shape changes: a dev server reloading this module keeps the old slot.
const globalKey = Symbol.for("floorline.session-cache.v2");
const slot = globalThis as unknown as Record<symbol, Cache | undefined>;
// One per process (Next may load this module more than once): eviction must reach every copy.
slot[globalKey] ??= { entries: new Map(), refreshing: new Set(), revocations: 0 };
const cache = slot[globalKey];
const entries = cache.entries;

export async function cachedSession(auth: Auth, headers: Headers, now = Date.now()): Promise<Session | null> {
  // The session cookie as better-auth parses it (session-cookie.ts); other cookies on the request
  // do not change who it is. Held under its name and parsed value.
  const cookie = sessionCookie(headers.get("cookie"));
  // No session cookie, no session (cookie sessions only: no bearer plugin). Anonymous requests,
  // hostile floods included, then cost no call into better-auth (~1 ms of CPU each, issue 11).
  // The warm-up's own caller has no cookie (warm-up-caller.ts decides, and never once it ends);
  // it is never cached, so nothing of it outlives the warm-up here.
  if (!cookie) return warmUpSession(headers);
  const key = `${cookie.name}=${cookie.value}`;
  const hit = entries.get(key);
  if (hit && hit.until > now && new Date(hit.session.session.expiresAt).getTime() > now) {
    if (hit.until - now <= REFRESH_AHEAD_MS) refresh(auth, headers, key, hit.session, now);
    return hit.session;
  }
  entries.delete(key);
  return lookUp(auth, headers, cookie, key, now);
}

/** Renews a held session off the request path; on error the entry expires as it would. */
function refresh(auth: Auth, headers: Headers, key: string, held: Session, started: number) {
  if (cache.refreshing.has(key)) return;
  cache.refreshing.add(key);
  const revocations = cache.revocations;
  readSession(auth, headers, held.session.token, started).then(
    (session) => {
      cache.refreshing.delete(key);
      if (!session) entries.delete(key);
      else keep(key, session, revocations, started);
    },
    () => cache.refreshing.delete(key),
  );
}

/**
 * The session of a cookie not held here, remembered as `keep` allows. A cookie under a name other
 * than this auth's (`__Secure-` or not) goes to getSession and is not kept: getSession reads only
 * its own name, possibly from another cookie of the request, so its answer is not this key's.
 */
async function lookUp(auth: Auth, headers: Headers, cookie: SessionCookie, key: string, started: number) {
  const revocations = cache.revocations;
  const context = await auth.$context;
  if (cookie.name !== context.authCookies.sessionToken.name) return auth.api.getSession({ headers });
  const token = signedSessionToken(cookie.value, context.secret);
  if (!token) return null;
  const session = await readSession(auth, headers, token, started);
  if (session) keep(key, session, revocations, started);
  return session;
}

/**
 * The one rule for a session's answer, for a first lookup (its cookie's signature checked) and a
 * held entry's re-read alike (header): the session read by its token (auth.ts sessionByToken:
 * the row, or better-auth's Redis record), handed to getSession where better-auth's answer is not
 * the record's — expired (getSession deletes it; both answer no session) or due for extension
 * (getSession extends it). Otherwise the record is getSession's answer. null: no session.
 */
async function readSession(auth: Auth, headers: Headers, token: string, now: number): Promise<Session | null> {
  const context = await auth.$context;
  const row = await auth.sessionByToken(token);
  if (row && (new Date(row.session.expiresAt).getTime() <= now || dueForExtension(context, row, now)))
    return auth.api.getSession({ headers });
  return row;
}

/**
 * better-auth's getSession extends a session (expiresAt = now + expiresIn: 7 days by default, at
 * most once per updateAge: 1 day) once expiresAt − expiresIn + updateAge has passed
 * (node_modules/better-auth/dist/api/routes/session.mjs; sessionConfig's defaults in
 * context/create-context.mjs). Where it would not extend anyway (a "don't remember me" session,
 * `disableSessionRefresh`, neither used here), asking it is only dearer, never wrong.
 */
function dueForExtension(context: Awaited<Auth["$context"]>, session: Session, now: number) {
  const { expiresIn, updateAge } = context.sessionConfig;
  return new Date(session.session.expiresAt).getTime() - expiresIn * 1000 + updateAge * 1000 <= now;
}

/**
 * Remembers a read's answer until `started` + SESSION_CACHE_MS unless a session was forgotten
 * while it was in flight (`revocations` is the count when it began): it may have read one that
 * has ended since.
 */
function keep(key: string, session: Session, revocations: number, started: number) {
  if (cache.revocations === revocations) store(key, session, started + SESSION_CACHE_MS);
}

/** Remembers a session until `until`, never shortening a later window already held. */
function store(key: string, session: Session, until: number) {
  const current = entries.get(key);
  if (current && current.until >= until) return;
  if (!current && entries.size >= MAX_ENTRIES) entries.delete(entries.keys().next().value as string);
  entries.set(key, { session, until });
}

/** A session that ended: no request in this process may use it again. */
export function forgetSession(sessionId: string) {
  cache.revocations++;
  for (const [key, entry] of entries) if (entry.session.session.id === sessionId) entries.delete(key);
}

/**
 * How many cookies are held now. Only a cookie whose session was found is ever held, under its
 * parsed value (session-cookie.ts), so bogus cookies, or one valid cookie spelled many ways, never
 * grow it; tests/security/session-cookie-http.test.ts counts it through a flood of them.
 */
export function heldSessionCount() {
  return entries.size;
}
