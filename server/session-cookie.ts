import { createHmac, timingSafeEqual } from "node:crypto";

/**
 * The session token in a session cookie's value (as sent, before decoding) when its signature is
 * the auth secret's; null when better-auth's getSession would refuse it. Checked as better-auth
 * checks it (better-call's getSignedCookie and verifySignature, node_modules/better-call/dist/
 * context.mjs, crypto.mjs, and its cookie parser in cookies.mjs): the value is trimmed, unquoted and
 * URI-decoded, then split at its last "."; the part after it must be 44 characters ending in "=",
 * the base64 of the HMAC-SHA-256 of the part before it (at least one character) under `secret`
 * (better-auth's context.secret, which signs every session cookie it sets). The comparison is in
 * constant time. tests/security/session-cache.test.ts sends forged, tampered and other-secret
 * cookies to both this and getSession.
 */
export function signedSessionToken(raw: string, secret: string): string | null {
  const value = decoded(unquoted(raw.trim()));
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

function unquoted(value: string) {
  return value.codePointAt(0) === 34 ? value.slice(1, -1) : value;
}

function decoded(value: string) {
  try {
    return value.includes("%") ? decodeURIComponent(value) : value;
  } catch {
    return value;
  }
}
