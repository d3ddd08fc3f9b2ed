import { createHmac } from "node:crypto";
import net from "node:net";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { session } from "@/db/schema";
import { heldSessionCount } from "@/server/session-cache";
import { openTestDb, testDbKinds } from "../support/db";
import { httpTestDeps, listenApi } from "../support/http";

/**
 * Attacks on the session check from outside, over real HTTP: the API door as serve.ts runs it
 * (front door, then node-bridge.ts), on each test database. A cookie not held in the session cache
 * is checked by us (session-cookie.ts, then one read of its row), not by better-auth's getSession,
 * so every way a cookie can be wrong is sent to it here, and the cache is watched: only a session
 * that was found may be held, once.
 */
const NAME = "better-auth.session_token";
const OTHER_SECRET = "another-secret-of-at-least-32-characters!!";
const sign = (token: string, secret: string) =>
  `${token}.${createHmac("sha256", secret).update(token).digest("base64")}`;
const sessionCookie = (value: string) => `${NAME}=${encodeURIComponent(value)}`;

describe.each(testDbKinds)("session cookies attacked over HTTP on %s", (kind) => {
  let handle: DbHandle;
  let api: Awaited<ReturnType<typeof listenApi>>;
  let base: string;
  beforeAll(async () => {
    handle = await openTestDb(kind);
    api = await listenApi(await httpTestDeps(handle), { frontDoor: true });
    base = api.base;
  });
  afterAll(async () => {
    await api?.close();
    await handle?.close();
  });

  /** A new session through the real sign-in endpoint; its cookie has not been used (not cached). */
  const signIn = async (email: string) => {
    const res = await fetch(`${base}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: base },
      body: JSON.stringify({ email, password: "floorline-demo" }),
    });
    expect(res.status).toBe(200);
    const cookie = res.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .find((c) => c?.startsWith(`${NAME}=`));
    if (!cookie) throw new Error("no session cookie");
    const value = decodeURIComponent(cookie.slice(NAME.length + 1));
    return { cookie, value, token: value.slice(0, value.lastIndexOf(".")) };
  };
  /** Who chat.me says the cookie is: the player id, or the HTTP status when refused. */
  const me = async (cookie: string) => {
    const res = await fetch(`${base}/api/trpc/chat.me`, { headers: { cookie } });
    if (res.status !== 200) return res.status;
    return ((await res.json()) as { result: { data: { json: { id: number } } } }).result.data.json.id;
  };

  it("forged cookies are refused: made up, tampered, another cookie's signature, another secret's", async () => {
    const a = await signIn("player31@floorline.test");
    const b = await signIn("player30@floorline.test");
    const held = heldSessionCount();
    const signature = a.value.slice(a.token.length + 1);
    for (const forged of [
      sign("x".repeat(32), "the-auth-secret-is-not-known-to-the-attacker"),
      `${a.token}.${"A".repeat(43)}=`,
      `${a.token.slice(0, -1)}${a.token.endsWith("A") ? "B" : "A"}.${signature}`,
      `${a.token}.${b.value.slice(b.token.length + 1)}`,
      sign(a.token, OTHER_SECRET),
      a.token,
    ])
      expect(await me(sessionCookie(forged)), forged).toBe(401);
    expect(heldSessionCount()).toBe(held);
    // Nothing above ended the real sessions.
    expect([await me(a.cookie), await me(b.cookie)]).toEqual([31, 30]);
  });

  it("another user's live token, signed with a wrong secret, is refused (with the right one it is theirs)", async () => {
    const victim = await signIn("player29@floorline.test");
    expect(await me(sessionCookie(sign(victim.token, OTHER_SECRET)))).toBe(401);
    expect(await me(`${NAME}=${encodeURIComponent(sign(victim.token, `${OTHER_SECRET}x`))}`)).toBe(401);
    expect(await me(victim.cookie)).toBe(29);
  });

  it("a valid cookie whose session row was deleted before its first use is refused at once", async () => {
    const a = await signIn("player31@floorline.test");
    await handle.db.delete(session).where(eq(session.token, a.token));
    expect(await me(a.cookie)).toBe(401);
  });

  it("a valid cookie whose row has expired is refused, and the row is removed", async () => {
    const a = await signIn("player31@floorline.test");
    await handle.db
      .update(session)
      .set({ expiresAt: new Date(Date.now() - 1000) })
      .where(eq(session.token, a.token));
    expect(await me(a.cookie)).toBe(401);
    expect(await handle.db.select().from(session).where(eq(session.token, a.token))).toEqual([]);
  });

  it("huge Cookie headers are refused with 4xx and the server goes on answering", async () => {
    const a = await signIn("player31@floorline.test");
    // Past Node's header limit (16 KiB): refused before any of our code runs.
    expect(await me(`${NAME}=${"A".repeat(20_000)}`)).toBe(431);
    expect(await me(`${a.cookie}; pad=${"x".repeat(64_000)}`)).toBe(431);
    // A megabyte on a raw socket: answered 431 and closed, nothing else.
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(new URL(base).port), "127.0.0.1");
      let text = "";
      socket.on("data", (d) => {
        text += d.toString();
      });
      socket.on("close", () => resolve(text));
      socket.on("error", (error) => (text ? resolve(text) : reject(error)));
      socket.write(`GET /api/trpc/chat.me HTTP/1.1\r\nHost: x\r\nCookie: ${NAME}=${"B".repeat(1 << 20)}\r\n\r\n`);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 431 /);
    // Just under the limit: a session cookie of 15,000 characters, four hundred of them, a signed
    // value whose token is huge: each is no session (401), none is a 5xx.
    const under = [
      `${NAME}=${"A".repeat(15_000)}`,
      Array.from({ length: 400 }, (_, i) => `${NAME}=${i}`).join("; "),
      sessionCookie(sign("t".repeat(10_000), OTHER_SECRET)),
      `${NAME}=${"%".repeat(10_000)}`,
      `${NAME}="${"\\".repeat(10_000)}"`,
    ];
    for (const cookie of under) expect(await me(cookie)).toBe(401);
    // A real session with kilobytes of other cookies around it still works.
    expect(await me(`pad=${"x".repeat(8_000)}; ${a.cookie}; more=${"y".repeat(4_000)}`)).toBe(31);
    expect(await me(a.cookie)).toBe(31);
  });

  // 935 requests one after another: 1.5-6 s here, past the suite's 20 s once beside the cookie property
  // test at load 12 (in-process PGlite shares the CPU). The limit is a hang guard.
  it("many distinct bogus cookies never grow the session cache; one valid cookie spelled many ways is held once", {
    timeout: 120_000,
  }, async () => {
    const a = await signIn("player31@floorline.test");
    const held = heldSessionCount();
    const bogus = Array.from({ length: 300 }, (_, i) => [
      sessionCookie(sign(`${a.token.slice(0, -3)}${i}`, OTHER_SECRET)),
      sessionCookie(`${a.token}.${i.toString().padStart(43, "A")}=`),
      `${NAME}=${"z".repeat(i + 1)}`,
    ]).flat();
    for (const cookie of bogus) expect(await me(cookie)).toBe(401);
    expect(heldSessionCount()).toBe(held);

    // The same signed value, spelled as clients may (percent-encoded here or there, quoted,
    // padded with spaces): better-auth reads each as the one value, and so is it held here.
    const value = a.value;
    const spellings = [
      encodeURIComponent(value),
      value,
      `"${encodeURIComponent(value)}"`,
      `  ${encodeURIComponent(value)}   `,
      ...Array.from({ length: 30 }, (_, i) =>
        encodeURIComponent(value).replace(
          new RegExp(`^(.{${i}})([A-Za-z0-9])`),
          (_, before, c: string) => `${before}%${c.charCodeAt(0).toString(16).toUpperCase()}`,
        ),
      ),
      `${encodeURIComponent(value)}${" ".repeat(8_000)}`,
    ];
    for (const spelling of spellings) expect(await me(`${NAME}=${spelling}`), spelling).toBe(31);
    expect(heldSessionCount()).toBe(held + 1);
  });
});
