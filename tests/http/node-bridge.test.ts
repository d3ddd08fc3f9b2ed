import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import net from "node:net";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { chatMessages } from "@/db/schema";
import { matchApiRoute } from "@/server/http/api-routes";
import { BufferedRequest } from "@/server/http/buffered-request";
import type { HttpDeps } from "@/server/http/deps";
import { JsonText } from "@/server/http/handler";
import { MAX_API_BODY_BYTES, sendResponse, toRequest } from "@/server/http/node-bridge";
import { openTestDb } from "../support/db";
import { httpTestDeps, listenApi } from "../support/http";

/**
 * The web server answers the API routes itself (serve.ts → node-bridge.ts), so what Next.js
 * used to do at this door is ours: a real HTTP server over the bridge, attacked from outside.
 */
describe("the API door (node-bridge.ts) over real HTTP", () => {
  let handle: DbHandle;
  let deps: HttpDeps;
  let api: Awaited<ReturnType<typeof listenApi>>;
  let base: string;
  beforeAll(async () => {
    handle = await openTestDb("pglite");
    deps = await httpTestDeps(handle);
    api = await listenApi(deps);
    base = api.base;
  });
  afterAll(async () => {
    await api?.close();
    await handle?.close();
  });

  const json = { "content-type": "application/json" };
  const signIn = async (email: string) => {
    const res = await fetch(`${base}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { ...json, origin: base },
      body: JSON.stringify({ email, password: "floorline-demo" }),
    });
    expect(res.status).toBe(200);
    return res.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
  };
  const stored = async (playerId: number) =>
    (await handle.db.select({ n: count() }).from(chatMessages).where(eq(chatMessages.playerId, playerId)))[0]?.n;

  /** Writes raw bytes on a socket and returns everything the server answers before it closes. */
  const raw = (bytes: string) =>
    new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(new URL(base).port), "127.0.0.1");
      let answer = "";
      socket.on("data", (d) => {
        answer += d.toString();
      });
      socket.on("end", () => resolve(answer));
      socket.on("error", reject);
      socket.write(bytes);
    });

  it("signs in and carries the session through tRPC, the cookie kept whole", async () => {
    const cookie = await signIn("player29@floorline.test");
    expect(cookie).toMatch(/better-auth\.session_token=/);
    const res = await fetch(`${base}/api/trpc/chat.me`, { headers: { cookie } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { result: { data: { json: { id: number } } } };
    expect(body.result.data.json.id).toBe(29);
  });

  it("says in Server-Timing how long the server worked on an API answer (what the bench reports as server time)", async () => {
    const cookie = await signIn("player29@floorline.test");
    for (const res of [
      await fetch(`${base}/api/trpc/chat.me`, { headers: { cookie } }),
      await fetch(`${base}/api/player-chat-integration/messages/29`, { headers: { cookie } }),
      await fetch(`${base}/api/no-such-route`),
    ]) {
      const timing = /^app;dur=([0-9]+(?:\.[0-9]+)?)$/.exec(res.headers.get("server-timing") ?? "");
      expect(timing, res.url).not.toBeNull();
      expect(Number(timing?.[1])).toBeGreaterThan(0);
    }
  });

  it("sends a message through tRPC from the app's own origin, stored once", async () => {
    const cookie = await signIn("player30@floorline.test");
    const before = await stored(30);
    const id = randomUUID();
    for (let i = 0; i < 2; i++) {
      const res = await fetch(`${base}/api/trpc/chat.send`, {
        method: "POST",
        headers: { ...json, cookie, origin: base },
        body: JSON.stringify({ json: { id, text: "through the door" } }),
      });
      expect(res.status).toBe(200);
    }
    expect(await stored(30)).toBe((before ?? 0) + 1);
  });

  it("hands a call the direct path leaves to tRPC's own adapter the body it was sent (a streamed batch)", async () => {
    const cookie = await signIn("player29@floorline.test");
    const before = await stored(29);
    const res = await fetch(`${base}/api/trpc/chat.send?batch=1`, {
      method: "POST",
      headers: { ...json, cookie, origin: base, "trpc-accept": "application/jsonl" },
      body: JSON.stringify({ 0: { json: { id: randomUUID(), text: "through tRPC's adapter" } } }),
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toContain("through tRPC's adapter");
    expect(await stored(29)).toBe((before ?? 0) + 1);
  });

  it("refuses a body over the limit with 413 and stores nothing, then serves the next request", async () => {
    const cookie = await signIn("player31@floorline.test");
    const before = await stored(31);
    const big = JSON.stringify({ json: { id: randomUUID(), text: "x".repeat(MAX_API_BODY_BYTES) } });
    const res = await fetch(`${base}/api/trpc/chat.send`, {
      method: "POST",
      headers: { ...json, cookie, origin: base },
      body: big,
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/too large/);
    expect(await stored(31)).toBe(before);
    expect((await fetch(`${base}/api/trpc/chat.me`, { headers: { cookie } })).status).toBe(200);
  });

  it("refuses a chunked body over the limit without reading it all", async () => {
    const answer = await raw(
      `POST /api/unified-chat/send HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n${`100000\r\n${"a".repeat(0x100000)}\r\n`.repeat(2)}`,
    );
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
  });

  it("answers a malformed Host header with 400, and keeps serving", async () => {
    const answer = await raw("GET /api/trpc/chat.me HTTP/1.1\r\nHost: bad host[\r\nConnection: close\r\n\r\n");
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect((await fetch(`${base}/api/trpc/chat.me`)).status).toBe(401);
  });

  it("answers an unknown API path with a JSON 404 and a wrong method with 405 and Allow", async () => {
    const missing = await fetch(`${base}/api/nothing-here`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { error: { status: number } }).error.status).toBe(404);
    const wrong = await fetch(`${base}/api/realtime/auth`);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get("allow")).toBe("POST");
    const photoId = await fetch(`${base}/api/photos/%E0%A4%A`);
    expect(photoId.status).toBe(404);
  });

  it("frames its answers with Content-Length, not chunked (tRPC's own and the bridge's)", async () => {
    for (const path of ["/api/trpc/chat.me", "/api/no-such-route"]) {
      const answer = await raw(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
      const [head = "", body = ""] = answer.split("\r\n\r\n");
      expect(head, path).not.toMatch(/^transfer-encoding:/im);
      expect(Number(/^content-length: *(\d+)$/im.exec(head)?.[1]), path).toBe(Buffer.byteLength(body));
      expect(JSON.parse(body), path).toHaveProperty("error");
    }
  });

  it("answers HEAD on a GET route without a body", async () => {
    const res = await fetch(`${base}/api/trpc/chat.me`, { method: "HEAD" });
    expect(res.status).toBe(401);
    expect(await res.text()).toBe("");
  });

  it("lives through a client that sends half a body and goes away", async () => {
    await new Promise<void>((resolve) => {
      const socket = net.connect(Number(new URL(base).port), "127.0.0.1", () => {
        socket.write(
          'POST /api/unified-chat/send HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"id":',
          () => {
            socket.destroy();
            resolve();
          },
        );
      });
    });
    expect((await fetch(`${base}/api/trpc/chat.me`)).status).toBe(401);
  });

  it("streams an upload to its route, which keeps its own limit", async () => {
    const cookie = await signIn("player29@floorline.test");
    const res = await fetch(`${base}/api/photos?id=${randomUUID()}`, {
      method: "POST",
      headers: { cookie, origin: base, "content-type": "application/octet-stream" },
      body: new Uint8Array(6 * 1024 * 1024),
    });
    expect(res.status).toBe(413);
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/at most 5 MB/);
  });

  it("hands tRPC the body it was sent: a BOM, a batch, and malformed JSON answered as before", async () => {
    const cookie = await signIn("player29@floorline.test");
    const before = await stored(29);
    const send = (path: string, body: Uint8Array<ArrayBuffer> | string) =>
      fetch(`${base}/api/trpc/${path}`, { method: "POST", headers: { ...json, cookie, origin: base }, body });
    const bom = new Uint8Array([
      0xef,
      0xbb,
      0xbf,
      ...new TextEncoder().encode(JSON.stringify({ json: { id: randomUUID(), text: "après" } })),
    ]);
    const withBom = await send("chat.send", bom);
    expect(withBom.status).toBe(200);
    const sent = (await withBom.json()) as { result: { data: { json: { message: { messageText: string } } } } };
    expect(sent.result.data.json.message.messageText).toBe("après");
    const batch = await send(
      "chat.send,chat.send?batch=1",
      JSON.stringify({
        0: { json: { id: randomUUID(), text: "one" } },
        1: { json: { id: randomUUID(), text: "two" } },
      }),
    );
    expect(batch.status).toBe(200);
    expect(((await batch.json()) as unknown[]).length).toBe(2);
    const malformed = await send("chat.send", '{"json":');
    expect(malformed.status).toBe(400);
    expect(((await malformed.json()) as { error: { json: { data: { code: string } } } }).error.json.data.code).toBe(
      "BAD_REQUEST",
    );
    expect(await stored(29)).toBe((before ?? 0) + 3);
  });

  it("answers a query (GET) the direct path leaves to tRPC's own adapter (a streamed batch)", async () => {
    const cookie = await signIn("player29@floorline.test");
    const res = await fetch(`${base}/api/trpc/chat.me?batch=1&input=${encodeURIComponent("{}")}`, {
      headers: { cookie, "trpc-accept": "application/jsonl" },
    });
    expect(res.status).toBe(200);
    expect(await res.text()).toMatch(/"id":29\b/);
  });
});

describe("JsonText", () => {
  it("reads like a Response: status, headers, json() and text()", async () => {
    const answer = new JsonText('{"a":1}', 201, { vary: "accept" });
    expect([answer.status, answer.ok, answer.body]).toEqual([201, true, null]);
    expect([answer.headers.get("content-type"), answer.headers.get("vary")]).toEqual(["application/json", "accept"]);
    expect([await answer.json(), await new JsonText("[]").text()]).toEqual([{ a: 1 }, "[]"]);
  });

  it("is written with its own headers, and with any set on it later", async () => {
    const plain = new JsonText('{"a":1}', 201, { vary: "accept" });
    const changed = new JsonText("{}");
    changed.headers.set("retry-after", "3");
    const answers = [plain, changed];
    const server = http.createServer((_req, res) => void sendResponse(res, answers.shift() as Response));
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      const first = await fetch(base);
      expect([first.status, first.headers.get("content-type"), first.headers.get("vary"), await first.text()]).toEqual([
        201,
        "application/json",
        "accept",
        '{"a":1}',
      ]);
      const second = await fetch(base);
      expect([second.headers.get("content-type"), second.headers.get("retry-after")]).toEqual([
        "application/json",
        "3",
      ]);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});

describe("toRequest", () => {
  const incoming = (method: string, url: string) =>
    Object.assign(new http.IncomingMessage(new net.Socket()), { method, url, headers: { host: "club.test:3000" } });

  it("gives a json-only route's GET (tRPC's queries) a BufferedRequest with its URL parsed once, no web Request", async () => {
    const request = await toRequest(incoming("GET", "/api/trpc/chat.me?input=%7B%7D"), { body: "json-only" });
    expect(request).toBeInstanceOf(BufferedRequest);
    const buffered = request as BufferedRequest;
    expect([buffered.method, buffered.url, buffered.parsedUrl.searchParams.get("input"), buffered.body]).toEqual([
      "GET",
      "http://club.test:3000/api/trpc/chat.me?input=%7B%7D",
      "{}",
      null,
    ]);
    expect(matchApiRoute("GET", "/api/trpc/chat.me").route?.body).toBe("json-only");
  });

  it("still gives the other routes' GETs a web Request", async () => {
    expect(await toRequest(incoming("GET", "/api/photos/x"), { body: "buffered" })).toBeInstanceOf(Request);
  });
});

describe("BufferedRequest", () => {
  const url = new URL("http://127.0.0.1/api/trpc/chat.send");
  /** What fetch's own Request makes of the same bytes: the behaviour BufferedRequest must keep. */
  const both = (bytes: Uint8Array<ArrayBuffer>) => [
    new Request(url, { method: "POST", body: bytes.length ? bytes : undefined }),
    new BufferedRequest(url, { method: "POST" }, bytes),
  ];
  const cases: [string, Uint8Array<ArrayBuffer>][] = [
    ["plain JSON", new TextEncoder().encode('{"json":{"text":"é"}}')],
    ["a leading BOM", new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d])],
    ["bytes that are not UTF-8", new Uint8Array([0x22, 0xff, 0xfe, 0x22])],
    ["nothing", new Uint8Array()],
    ["malformed JSON", new TextEncoder().encode('{"json":')],
  ];
  it.each(cases)("reads %s as fetch does", async (_, bytes) => {
    const settle = (p: Promise<unknown>) =>
      p.then(
        (value) => ({ value }),
        (err: Error) => ({ error: err.constructor.name }),
      );
    const [real, buffered] = both(bytes) as [Request, Request];
    expect(await settle(buffered.text())).toEqual(await settle(real.text()));
    const [real2, buffered2] = both(bytes) as [Request, Request];
    expect(await settle(buffered2.json())).toEqual(await settle(real2.json()));
  });

  it("is the same request as a web Request when code needs one", async () => {
    const bytes = new TextEncoder().encode('{"json":{"text":"é"}}');
    const request = new BufferedRequest(url, { method: "POST", headers: { cookie: "a=b" } }, bytes).asWebRequest();
    expect(request).toBeInstanceOf(Request);
    expect([request.method, request.url, request.headers.get("cookie"), await request.text()]).toEqual([
      "POST",
      url.href,
      "a=b",
      '{"json":{"text":"é"}}',
    ]);
  });

  it("keeps the method, URL and headers and has no body stream", () => {
    const request = new BufferedRequest(
      url,
      { method: "POST", headers: { cookie: "a=b" } },
      new Uint8Array([0x7b, 0x7d]),
    );
    expect([request.method, request.url, request.headers.get("cookie"), request.body]).toEqual([
      "POST",
      url.href,
      "a=b",
      null,
    ]);
  });
});
