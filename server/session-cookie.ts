import { createHmac, timingSafeEqual } from "node:crypto";
import { parseCookies } from "better-call";

/** better-auth's session cookie, named so over http; over https it carries the `__Secure-` prefix. */
const SESSION_COOKIE = "better-auth.session_token";
const SECURE_SESSION_COOKIE = `__Secure-${SESSION_COOKIE}`;

export type SessionCookie = { name: string; value: string };

/**
 * The session cookie in a Cookie header, found as better-auth's getSession finds it: by
 * better-call's own parser (node_modules/better-call/dist/cookies.mjs), which trims names and
 * values, unquotes and URI-decodes values, and keeps a name's first occurrence only — so
 * `name=; name=…` and ` name =bad; name=good` are no session to it, and must be none here
 * (tests/security/session-cookie.test.ts checks every header against it). Under either name
 * (session-cache.ts sends the one that is not this auth's to getSession). The value is the parsed
 * one: a cache key made of it holds one signed value however the client spelled it, so keys stay
 * as small as a real cookie (padding or percent-encoding a valid cookie makes no new key).
 */
export function sessionCookie(header: string | null): SessionCookie | null {
  // Anonymous requests, hostile floods included, carry no session cookie: no parse.
  if (!header?.includes(SESSION_COOKIE)) return null;
  for (const [name, value] of parseCookies(header))
    if ((name === SESSION_COOKIE || name === SECURE_SESSION_COOKIE) && value) return { name, value };
  return null;
}

/**
 * The session token in a session cookie's value (as sessionCookie parsed it) when its signature is
 * the auth secret's; null when better-auth's getSession would refuse it. Checked as better-call's
 * getSignedCookie and verifySignature check it (node_modules/better-call/dist/context.mjs,
 * crypto.mjs): split at the last "."; the part after it must be 44 characters ending in "=", the
 * base64 of the HMAC-SHA-256 of the part before it (at least one character) under `secret`
 * (better-auth's context.secret, which signs every session cookie it sets). The comparison is in
 * constant time. tests/security/session-cookie.test.ts checks it against better-call itself.
 */
export function signedSessionToken(value: string, secret: string): string | null {
  const dot = value.lastIndexOf(".");
  if (dot < 1) return null;
  const token = value.slice(0, dot);
  const signature = value.slice(dot + 1);
  if (signature.length !== 44 || !signature.endsWith("=")) return null;
  let given: Buffer;
  try {
    // atob, as better-call decodes it: it refuses what is not base64 (Buffer.from would skip it).
    given = Buffer.from(atob(signature), "latin1");
  } catch {
    return null;
  }
  const expected = createHmac("sha256", secret).update(token).digest();
  return given.length === expected.length && timingSafeEqual(given, expected) ? token : null;
}
