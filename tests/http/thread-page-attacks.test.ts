import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { staff } from "@/db/schema";
import { threadPageWithReader } from "@/server/chat/messages";
import { openTestDb, testDbKinds } from "../support/db";
import { httpTestDeps, listenApi, signInCookie } from "../support/http";
import { insertThread } from "../support/thread";

/**
 * One request's raw bytes on a new connection, told to close after its answer (the socket is not
 * half-closed: Node's server drops a request whose client ended its side); the whole answer.
 */
function raw(port: number, request: string | Buffer) {
  const bytes = Buffer.from(request);
  const line = bytes.indexOf("\r\n") + 2;
  const closing = Buffer.concat([bytes.subarray(0, line), Buffer.from("Connection: close\r\n"), bytes.subarray(line)]);
  return new Promise<{ status: number; head: string; body: Buffer }>((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", reject);
    socket.on("end", () => {
      const all = Buffer.concat(chunks);
      const end = all.indexOf("\r\n\r\n");
      const head = all.subarray(0, end).toString("latin1");
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(head)?.[1] ?? 0), head, body: all.subarray(end + 4) });
      socket.destroy();
    });
    socket.write(closing);
  });
}

const PATH = "/api/player-chat-integration/messages/29";

/**
 * The thread page's GET (its BufferedRequest, node-bridge.ts) attacked over real HTTP, behind the
 * front door as serve.ts runs it: every odd request is a 4xx (never a 5xx) whose body names no
 * stack and no SQL, and the server answers on. Then what it writes for awkward stored text.
 */
describe.each(testDbKinds)("the thread page's GET attacked over HTTP on %s", (kind) => {
  let handle: DbHandle;
  let api: Awaited<ReturnType<typeof listenApi>>;
  let port: number;
  let staffCookie: string;
  // Lone surrogates (stored as U+FFFD: Postgres holds UTF-8), emoji, and a message far past the
  // app's own length limit (stored by hand).
  const texts = ["lone \ud800 high", "lone \udc00 low", "🎰🃏".repeat(500), "é".repeat(100_000), "last"];
  beforeAll(async () => {
    handle = await openTestDb(kind);
    const deps = await httpTestDeps(handle);
    api = await listenApi(deps, { frontDoor: true });
    port = Number(new URL(api.base).port);
    staffCookie = await signInCookie(deps, "asha@floorline.test");
    await insertThread(handle.db, { playerId: 29, texts, staffName: "Asha", at: (i) => new Date(i * 1000) });
  });
  afterAll(async () => {
    await api?.close();
    await handle?.close();
  });

  const get = (target: string, headers = "", method = "GET") =>
    raw(port, `${method} ${target} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nCookie: ${staffCookie}\r\n${headers}\r\n`);

  /** A clear refusal: 4xx, no stack and no SQL in it; and the server still answers a plain read. */
  const refused = async (answer: { status: number; body: Buffer }, status?: number) => {
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    if (status) expect(answer.status).toBe(status);
    const body = answer.body.toString("utf8");
    expect(body).not.toMatch(/\n\s+at |select |from "|postgres|drizzle|node_modules/i);
    const plain = await get(`${PATH}?limit=1`);
    if (plain.status !== 200) console.log("PLAIN", plain.head, plain.body.toString().slice(0, 500));
    expect(plain.status).toBe(200);
  };

  it("refuses odd query strings with a 400", async () => {
    for (const query of [
      `?limit=1&${"a=b&".repeat(3000)}`, // ~12 KB of unknown parameters
      "?limit=%ZZ",
      "?limit=%E0%A4", // percent-encoded bytes that are not UTF-8
      "?limit=1%00",
      "?limit=999999999999999999999999",
      "?limit=-1",
      "?limit=1e1",
      "?limit=0x10",
      "?before=9007199254740993",
      "?sinceSeq=1&before=2",
      "?limit[]=1",
      `?${"%".repeat(5000)}`,
    ])
      await refused(await get(`${PATH}${query}`), 400);
  });

  it("refuses a parameter given twice (which one would count?) with a 400 that names it", async () => {
    for (const query of [
      "?limit=50&limit=1",
      "?limit=1&limit=1",
      "?before=3&limit=1&before=2",
      "?sinceSeq=0&sinceSeq=0",
    ]) {
      const answer = await get(`${PATH}${query}`);
      await refused(answer, 400);
      const { error } = JSON.parse(answer.body.toString("utf8"));
      expect(error.message).toMatch(/more than once/);
      expect(Object.keys(error.fieldErrors)).toHaveLength(1);
    }
  });

  it("refuses unknown parameters with a 400 that names them", async () => {
    for (const query of ["?limit=1&lmit=2", "?page=2", "?__proto__=1", "?constructor=1&limit=1", "?=1"]) {
      const answer = await get(`${PATH}${query}`);
      await refused(answer, 400);
      expect(JSON.parse(answer.body.toString("utf8")).error.message).toMatch(/unrecognized key/i);
    }
  });

  it("refuses raw bytes that are not UTF-8 or ASCII in the target", async () => {
    const head = (target: Buffer) =>
      Buffer.concat([
        Buffer.from("GET "),
        target,
        Buffer.from(` HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nCookie: ${staffCookie}\r\n\r\n`),
      ]);
    for (const target of [
      Buffer.concat([Buffer.from(`${PATH}?limit=`), Buffer.from([0xff, 0xfe])]),
      Buffer.concat([Buffer.from("/api/player-chat-integration/messages/"), Buffer.from([0xc3, 0x28])]),
    ])
      await refused(await raw(port, head(target)));
  });

  it("refuses ids out of range or not ids", async () => {
    for (const id of ["0", "-1", "99999999999999999999", "1e3", "0x1d", "%00", "29%20", "abc", "2147483648"]) {
      const answer = await get(`/api/player-chat-integration/messages/${id}`);
      await refused(answer);
    }
  });

  it("refuses an absolute-form target, a missing or bad Host, and a huge target", async () => {
    await refused(await get(`http://evil.example${PATH}`), 404);
    await refused(await raw(port, `GET ${PATH} HTTP/1.1\r\nCookie: ${staffCookie}\r\n\r\n`), 400);
    await refused(await raw(port, `GET ${PATH} HTTP/1.1\r\nHost: a b\r\nCookie: ${staffCookie}\r\n\r\n`), 400);
    await refused(await raw(port, `GET ${PATH} HTTP/1.1\r\nHost: x:99999\r\nCookie: ${staffCookie}\r\n\r\n`), 400);
    await refused(await get(`${PATH}?limit=1&x=${"a".repeat(20_000)}`), 431);
  });

  it("reads the first of duplicate session cookies as better-auth does, never a 5xx", async () => {
    const [name] = staffCookie.split("=");
    const bogus = `${name}=bogus.signature`;
    await refused(
      await raw(port, `GET ${PATH} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${bogus}\r\nCookie: ${staffCookie}\r\n\r\n`),
      401,
    );
    const twice = await raw(
      port,
      `GET ${PATH}?limit=1 HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: ${staffCookie}; ${bogus}\r\n\r\n`,
    );
    expect(twice.status).toBe(200);
  });

  it("answers HEAD as GET without a body, and OPTIONS / POST / DELETE with 405", async () => {
    const head = await get(`${PATH}?limit=1`, "", "HEAD");
    expect(head.status).toBe(200);
    expect(head.body.length).toBe(0);
    for (const method of ["OPTIONS", "POST", "DELETE", "PATCH"]) {
      const answer = await get(PATH, "Content-Length: 2\r\n\r\n{}", method);
      await refused(answer, 405);
      expect(answer.head).toMatch(/\r\nallow: GET/i);
    }
  });

  it("writes stored lone surrogates, emoji and a very long message as the UTF-8 of the page Postgres built", async () => {
    const [member] = await handle.db.select().from(staff).limit(1);
    if (!member) throw new Error("demo staff missing");
    const { page } = await threadPageWithReader(handle.db, { userId: member.userId, playerId: 29, limit: 50 });
    const expected = Buffer.from(`{"playerId":29,"messages":${page.messages},"olderCursor":null}`, "utf8");
    const answer = await get(PATH);
    expect(answer.status).toBe(200);
    expect(answer.body.equals(expected)).toBe(true);
    expect(answer.head).toMatch(new RegExp(`\r\ncontent-length: ${expected.length}\r\n`, "i"));
    const shown = JSON.parse(answer.body.toString("utf8")).messages.map((m: { messageText: string }) => m.messageText);
    expect(shown).toEqual(texts.map((t) => t.toWellFormed()));
  });
});
