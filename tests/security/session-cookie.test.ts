import { createHmac } from "node:crypto";
import { createRequire } from "node:module";
import { createInternalContext } from "better-call";
import { eq } from "drizzle-orm";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { session } from "@/db/schema";
import type { HttpDeps } from "@/server/http/deps";
import { cachedSession } from "@/server/session-cache";
import { sessionCookie, signedSessionToken } from "@/server/session-cookie";
import { openTestDb, testDbKinds } from "../support/db";
import { httpTestDeps, signInCookie } from "../support/http";

/**
 * A differential test of the session check we do ourselves (session-cookie.ts's sessionCookie,
 * then its signedSessionToken, as session-cache.ts runs them) against better-call's own: the getSignedCookie that
 * better-auth's getSession calls, on a context better-call builds from the same headers. Where
 * ours finds a cookie under the auth's name it must give exactly better-call's answer (accepting
 * more would let in a cookie better-auth refuses: issue 12); where it finds none, better-call must
 * find none either. A cookie under the other name (`__Secure-` or not) goes to getSession itself.
 */
const SECRET = "the-auth-secret-of-at-least-32-characters!";
const OTHER = "another-secret-of-at-least-32-characters!!";
const PLAIN = "better-auth.session_token";
const SECURE = `__Secure-${PLAIN}`;

const sign = (token: string, secret: string) =>
  `${token}.${createHmac("sha256", secret).update(token).digest("base64")}`;

/** better-call's answer: the token, or null (it returns false for a bad signature). */
async function betterCall(headers: Headers, name: string, secret: string) {
  const context = await createInternalContext({ headers }, { options: { method: "GET" }, path: "/get-session" });
  return (await context.getSignedCookie(name, secret)) || null;
}

/** Ours: null (no cookie: refused without a read), "getSession" (another name), or the token. */
function ours(headers: Headers, name: string, secret: string) {
  const cookie = sessionCookie(headers.get("cookie"));
  if (!cookie) return null;
  if (cookie.name !== name) return "getSession";
  return signedSessionToken(cookie.value, secret);
}

const token = fc.oneof(
  fc.stringMatching(/^[A-Za-z0-9]{32}$/),
  fc.string({ minLength: 0, maxLength: 40 }),
  fc.string({ unit: "grapheme", maxLength: 20 }),
  fc.constantFrom("a.b", "..", ".", "a%2Eb", "%", "é", "\u{1F600}", " x ", '"x"'),
);
const signedValue = fc.tuple(token, fc.constantFrom(SECRET, SECRET, OTHER)).map(([t, s]) => sign(t, s));

/** Changes a signed value the ways a forger or a broken client might. */
const mutatedFrom = (signed: fc.Arbitrary<string>) =>
  fc.tuple(signed, fc.nat(), fc.nat()).chain(([value, at, other]) =>
    fc.constantFrom(
      value,
      // A character flipped, dropped or doubled.
      value.slice(0, at % (value.length + 1)) +
        String.fromCharCode((value.charCodeAt(at % value.length) + 1 + (other % 3)) & 0x7f) +
        value.slice((at % (value.length + 1)) + 1),
      value.slice(0, at % value.length) + value.slice((at % value.length) + 1),
      value.slice(0, at % value.length) + value[at % value.length] + value.slice(at % value.length),
      // Padding removed or added; base64url instead of base64; the low bits of the last digit.
      value.replace(/=$/, ""),
      `${value}=`,
      value.replace(/=$/, "==").slice(0, -1),
      value.replaceAll("+", "-").replaceAll("/", "_"),
      value.replace(/.(?==$)/, (c) => "AQgw"[(other % 4) as 0] ?? c),
      // Encoded, twice, partly; quoted, half-quoted; whitespace around and inside.
      encodeURIComponent(value),
      encodeURIComponent(encodeURIComponent(value)),
      value.replace(/[A-Za-z]/, (c) => `%${c.charCodeAt(0).toString(16)}`),
      `%${value}`,
      `"${value}"`,
      `"${encodeURIComponent(value)}"`,
      `"${value}`,
      `${value}"`,
      ` ${value} `,
      `\t${value}`,
      value.replace(".", ". "),
      value.replace(".", " ."),
      // Dots, signatures twice, cut, very long.
      `${value}.${value.split(".").at(-1)}`,
      `x.${value}`,
      value.replace(/\.[^.]*$/, ""),
      value.replace(/^[^.]*/, ""),
      `${"A".repeat(10_000)}${value}`,
      `${value}${" ".repeat(1000)}`,
      "",
      " ",
      '""',
    ),
  );
/** Session cookie values: mostly `signed` ones changed, some plain junk. */
const valueFrom = (signed: fc.Arbitrary<string>) =>
  fc.oneof(
    { arbitrary: mutatedFrom(signed), weight: 6 },
    { arbitrary: fc.string({ maxLength: 60 }), weight: 1 },
    { arbitrary: fc.string({ unit: "binary", maxLength: 60 }), weight: 1 },
  );
const name = fc.constantFrom(
  PLAIN,
  PLAIN,
  SECURE,
  ` ${PLAIN}`,
  `${PLAIN} `,
  `\t${PLAIN}\t`,
  "Better-Auth.session_token",
  `${PLAIN}2`,
  `x${PLAIN}`,
  `__Host-${PLAIN}`,
  "theme",
  "",
);
/** A piece of a Cookie header: a pair, or junk without "=". */
const pieceFrom = (signed: fc.Arbitrary<string>) =>
  fc.oneof(
    { arbitrary: fc.tuple(name, valueFrom(signed)).map(([n, v]) => `${n}=${v}`), weight: 8 },
    { arbitrary: fc.constantFrom("", " ", "junk", "a=b=c", "=x", '"'), weight: 1 },
  );
const separator = fc.constantFrom(";", "; ", ";  ", " ; ", ";\t", ",", ", ");
/** Cookie headers of up to five pieces whose session cookies are `signed` values, changed or not. */
const cookieHeaderFrom = (signed: fc.Arbitrary<string>) =>
  fc
    .tuple(
      fc.array(pieceFrom(signed), { minLength: 1, maxLength: 5 }),
      fc.array(separator, { minLength: 5, maxLength: 5 }),
    )
    .map(([pieces, seps]) => pieces.reduce((header, p, i) => (i === 0 ? p : `${header}${seps[i] ?? ";"}${p}`), ""));
const cookieHeader = cookieHeaderFrom(signedValue);

/** The header as a request would carry it; null where fetch's Headers refuses it (never sent). */
function headersOf(cookie: string) {
  try {
    return new Headers({ cookie });
  } catch {
    return null;
  }
}

/** What each header came to, so the property is seen to reach acceptance, not only refusals. */
const outcomes = { accepted: 0, refused: 0, getSession: 0 };

async function agrees(cookie: string, authName: string, secret: string) {
  const headers = headersOf(cookie);
  if (!headers) return;
  const mine = ours(headers, authName, secret);
  if (mine === "getSession") {
    outcomes.getSession++;
    return;
  }
  expect(mine, JSON.stringify(cookie)).toBe(await betterCall(headers, authName, secret));
  outcomes[mine === null ? "refused" : "accepted"]++;
}

describe("the session cookie, checked by us as better-call checks it", () => {
  it("parses with the very better-call better-auth runs (one copy: the parser is theirs, not a look-alike)", () => {
    const require = createRequire(import.meta.url);
    const ours = require.resolve("better-call");
    const betterAuths = createRequire(require.resolve("better-auth")).resolve("better-call");
    expect(ours).toBe(betterAuths);
  });

  it("the real thing: a cookie better-auth signed is accepted by both, with the same token", async () => {
    const value = encodeURIComponent(sign("a".repeat(32), SECRET));
    const headers = new Headers({ cookie: `theme=dark; ${PLAIN}=${value}` });
    expect(ours(headers, PLAIN, SECRET)).toBe("a".repeat(32));
    expect(await betterCall(headers, PLAIN, SECRET)).toBe("a".repeat(32));
  });

  it.each([
    ["an empty cookie first, a good one after", `${PLAIN}=; ${PLAIN}=${sign("t".repeat(32), SECRET)}`],
    [
      "a bad cookie first whose name has a space, a good one after",
      ` ${PLAIN} =x; ${PLAIN}=${sign("t".repeat(32), SECRET)}`,
    ],
    ["a good cookie whose name has a space before its =", `${PLAIN} =${sign("t".repeat(32), SECRET)}`],
    ["a junk piece before it, no space", `junk;${PLAIN}=${sign("t".repeat(32), SECRET)}`],
    [
      "the value percent-encoded, quoted, padded with spaces",
      `${PLAIN}= "${encodeURIComponent(sign("t".repeat(32), SECRET))}" `,
    ],
  ])("%s: the same answer", async (_, cookie) => {
    await agrees(cookie, PLAIN, SECRET);
  });

  it("any Cookie header: the same answer as better-call's, for the plain and the __Secure- name", async () => {
    await fc.assert(
      fc.asyncProperty(cookieHeader, fc.constantFrom(PLAIN, SECURE), fc.constantFrom(SECRET, OTHER), agrees),
      { numRuns: Number(process.env.FC_RUNS ?? 3000) },
    );
    expect(outcomes.accepted).toBeGreaterThan(0);
    if (process.env.FC_RUNS) console.log(outcomes);
  });
});

describe.each(testDbKinds)("the whole session check against better-auth's getSession on %s", (kind) => {
  let handle: DbHandle;
  let deps: HttpDeps;
  beforeAll(async () => {
    handle = await openTestDb(kind);
    deps = await httpTestDeps(handle);
  });
  afterAll(async () => {
    await handle?.close();
  });
  const cookieValue = (cookie: string) => decodeURIComponent(cookie.slice(cookie.indexOf("=") + 1).split(";")[0] ?? "");

  it("any Cookie header around live, deleted and forged session cookies: the same session as getSession, or none", async () => {
    const a = cookieValue(await signInCookie(deps, "player31@floorline.test"));
    const b = cookieValue(await signInCookie(deps, "player30@floorline.test"));
    const gone = cookieValue(await signInCookie(deps, "player29@floorline.test"));
    await handle.db.delete(session).where(eq(session.token, gone.slice(0, gone.lastIndexOf("."))));
    const aToken = a.slice(0, a.lastIndexOf("."));
    const values = fc.constantFrom(a, a, b, gone, sign(aToken, OTHER), `${aToken}.${b.slice(b.lastIndexOf(".") + 1)}`);
    const seen = { a: 0, b: 0, none: 0 };
    await fc.assert(
      fc.asyncProperty(cookieHeaderFrom(values), async (cookie) => {
        const headers = headersOf(cookie);
        if (!headers) return;
        // Ours first: held sessions (earlier runs cached a and b) answer from the cache.
        const mine = (await cachedSession(deps.auth, headers, Date.now()))?.session.token ?? null;
        const theirs = (await deps.auth.api.getSession({ headers }))?.session.token ?? null;
        expect(mine, JSON.stringify(cookie)).toBe(theirs);
        seen[mine === null ? "none" : mine === aToken ? "a" : "b"]++;
      }),
      { numRuns: Number(process.env.FC_RUNS ?? 300) },
    );
    expect(seen.a).toBeGreaterThan(0);
  });
});
