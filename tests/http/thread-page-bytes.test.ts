import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { staff } from "@/db/schema";
import { threadPage, threadPageWithReader } from "@/server/chat/messages";
import { forPlayer } from "@/server/chat/player-view";
import type { HttpDeps } from "@/server/http/deps";
import { JsonText } from "@/server/http/handler";
import { sendResponse, serveApi } from "@/server/http/node-bridge";
import { openTestDb } from "../support/db";
import { httpTestDeps, signInCookie } from "../support/http";
import { insertThread } from "../support/thread";

/** GET over real HTTP: the status, the headers and the body exactly as the bytes came. */
const get = (url: string, headers: Record<string, string> = {}) =>
  new Promise<{ status: number; headers: http.IncomingHttpHeaders; body: Buffer }>((resolve, reject) => {
    http
      .get(url, { headers, agent: false }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () =>
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
        );
        res.on("error", reject);
      })
      .on("error", reject);
  });

// Text whose UTF-8 is longer than its JavaScript length (é is one byte in V8's one-byte strings and
// two in UTF-8; emoji are surrogate pairs), JSON's escapes, U+2028, markup, and a photo message.
const texts = [
  "plain",
  'quote " backslash \\ tab \t line\nbreak\r\n',
  "café crème, naïve — “curly” ‘quotes’",
  "emoji 🎰🃏 देवनागरी 中文 \u2028 line separator",
  "</script><b>&amp;</b>",
  "photo",
  "x".repeat(2000),
  "last",
];

/**
 * What the web process writes for a thread page, byte for byte (issue 11: how the bridge writes an
 * answer is a matter of allocation, never of the bytes): staff get the page's JSON as Postgres
 * built it, the player the same page without staff user ids, each with a Content-Length equal to
 * the body's UTF-8 bytes.
 */
describe("a thread page's bytes over real HTTP (node-bridge.ts)", () => {
  let handle: DbHandle;
  let deps: HttpDeps;
  let server: http.Server;
  let base: string;
  let staffCookie: string;
  let playerCookie: string;
  const playerId = 29;
  beforeAll(async () => {
    handle = await openTestDb("pglite");
    deps = await httpTestDeps(handle);
    staffCookie = await signInCookie(deps, "asha@floorline.test");
    playerCookie = await signInCookie(deps, "player29@floorline.test");
    server = http.createServer((req, res) => void serveApi(req, res, async () => deps));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const at = Date.parse("2026-11-26T23:59:59.999Z");
    await insertThread(handle.db, {
      playerId,
      texts,
      staffName: "Asha “floor” é",
      at: (i) => new Date(at + i * 1_000_001),
    });
  });
  afterAll(async () => {
    server?.closeAllConnections();
    await new Promise((resolve) => server?.close(resolve));
    await handle?.close();
  });

  const pages = [
    { query: "", cursor: undefined, limit: 50 },
    { query: "?limit=3", cursor: undefined, limit: 3 },
    { query: "?before=5&limit=2", cursor: 5, limit: 2 },
  ];

  it("answers staff the page's JSON as Postgres wrote it, byte for byte, with its UTF-8 length", async () => {
    const [member] = await handle.db.select().from(staff).limit(1);
    if (!member) throw new Error("demo staff missing");
    for (const { query, cursor, limit } of pages) {
      const { page } = await threadPageWithReader(handle.db, { userId: member.userId, playerId, cursor, limit });
      const expected = `{"playerId":${playerId},"messages":${page.messages},"olderCursor":${page.olderCursor ?? null}}`;
      const res = await get(`${base}/api/player-chat-integration/messages/${playerId}${query}`, {
        cookie: staffCookie,
      });
      expect(res.status).toBe(200);
      expect(res.headers["content-type"]).toBe("application/json");
      expect(res.body.toString("utf8")).toBe(expected);
      expect(res.body.equals(Buffer.from(expected, "utf8"))).toBe(true);
      expect(res.headers["content-length"]).toBe(String(res.body.length));
    }
  });

  it("answers the player their page as JSON.stringify writes it, byte for byte", async () => {
    for (const { query, cursor, limit } of pages) {
      const shown = forPlayer(await threadPage(handle.db, { playerId, cursor, limit }));
      const expected = JSON.stringify({ playerId, messages: shown.messages, olderCursor: shown.olderCursor ?? null });
      const res = await get(`${base}/api/player-chat-integration/messages/${playerId}${query}`, {
        cookie: playerCookie,
      });
      expect(res.status).toBe(200);
      expect(res.body.equals(Buffer.from(expected, "utf8"))).toBe(true);
      expect(res.headers["content-length"]).toBe(String(res.body.length));
    }
  });

  it("writes any JSON answer's text as its UTF-8 bytes, short or long, with its headers and length", async () => {
    // Long (written as bytes) and short (written as a string with the head): the same bytes either way.
    const contents = [
      JSON.stringify({ texts, lone: "\ud800", at: new Date(0) }),
      JSON.stringify({ short: texts[3], at: new Date(0) }),
    ];
    let content = "";
    const answer = () => new JsonText(content, 201, { vary: "accept" });
    const bridge = http.createServer((_req, res) => void sendResponse(res, answer()));
    await new Promise<void>((resolve) => bridge.listen(0, "127.0.0.1", resolve));
    try {
      const url = `http://127.0.0.1:${(bridge.address() as AddressInfo).port}/`;
      for (content of contents) {
        const res = await get(url);
        expect(res.status).toBe(201);
        expect(res.headers.vary).toBe("accept");
        expect(res.body.equals(Buffer.from(content, "utf8"))).toBe(true);
        expect(res.headers["content-length"]).toBe(String(Buffer.byteLength(content)));
        expect(await answer().text()).toBe(content);
        expect(await answer().json()).toStrictEqual(JSON.parse(content));
      }
      // Made of pieces (as the staff page is), it is the same text and the same bytes.
      const pieces = new JsonText([
        '{"texts":',
        JSON.stringify(texts).slice(0, 9),
        JSON.stringify(texts).slice(9),
        "}",
      ]);
      const whole = JSON.stringify({ texts });
      expect(await pieces.text()).toBe(whole);
      expect(Buffer.from(pieces.toWrite()).equals(Buffer.from(whole, "utf8"))).toBe(true);
    } finally {
      bridge.closeAllConnections();
      await new Promise((resolve) => bridge.close(resolve));
    }
  });
});
