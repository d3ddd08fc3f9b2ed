import { randomUUID } from "node:crypto";
import { count, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { chatMessages } from "@/db/schema";
import { integrationSend, playerMessages, unifiedSend } from "@/server/http/club-api";
import type { HttpDeps } from "@/server/http/deps";
import { trpcRoute } from "@/server/http/guarded-routes";
import { authorizeChannel } from "@/server/realtime-auth";
import { openTestDb, testDbKinds } from "../support/db";
import { APP, httpTestDeps, jsonRequest, signInCookie, trpcRequest } from "../support/http";

/** One test (or a few) per finding of the security review, each written before its fix. */
describe.each(testDbKinds)("security findings on %s", (kind) => {
  let handle: DbHandle;
  let deps: HttpDeps;
  let player29: string;
  let staff: string;
  beforeAll(async () => {
    handle = await openTestDb(kind);
    deps = await httpTestDeps(handle);
    [player29, staff] = await Promise.all([
      signInCookie(deps, "player29@floorline.test"),
      signInCookie(deps, "asha@floorline.test"),
    ]);
  });
  afterAll(async () => {
    await handle?.close();
  });

  const stored = async (playerId: number) =>
    (await handle.db.select({ n: count() }).from(chatMessages).where(eq(chatMessages.playerId, playerId)))[0]?.n;

  describe("1. Player IDs beyond the column's range are 400, never 500", () => {
    const beyond = ["2147483648", "9007199254740991", "99999999999999999999"];

    it.each(beyond)("GET /api/player-chat-integration/messages/%s", async (id) => {
      const res = await playerMessages(
        deps,
        jsonRequest(`/api/player-chat-integration/messages/${id}`, { cookie: staff }),
        { playerId: id },
      );
      expect(res.status).toBe(400);
      expect((await res.json()).error.message).toMatch(/Player ID/);
    });

    it.each([2147483648, 9007199254740991])("POST /api/player-chat-integration/send with playerId %s", async (id) => {
      const res = await integrationSend(
        deps,
        jsonRequest("/api/player-chat-integration/send", {
          cookie: staff,
          body: { playerId: id, id: randomUUID(), text: "hello" },
        }),
      );
      expect(res.status).toBe(400);
    });

    it.each([
      ["staff.thread", { playerId: 2147483648 }, false],
      ["staff.threadSince", { playerId: 2147483648, sinceSeq: 0 }, false],
      ["staff.markMessages", { playerId: 2147483648, status: "read", upToSeq: 1 }, true],
      ["staff.thread", { playerId: 9007199254740991 }, false],
    ] as const)("tRPC %s with %j", async (procedure, input, mutation) => {
      const res = await trpcRoute(trpcRequest(procedure, { cookie: staff, input, mutation }), deps);
      expect(res.status).toBe(400);
    });

    it("a NUL character in a message is refused, not a database error", async () => {
      const res = await unifiedSend(
        deps,
        jsonRequest("/api/unified-chat/send", { cookie: player29, body: { id: randomUUID(), text: "a\u0000b" } }),
      );
      expect(res.status).toBe(400);
    });
  });

  describe("2. 5xx bodies never carry the error: a sentence and a reference", () => {
    it("a tRPC fault answers with a reference id and no SQL", async () => {
      const broken = { ...deps, db: brokenDb(deps) };
      const res = await trpcRoute(trpcRequest("staff.thread", { cookie: staff, input: { playerId: 29 } }), broken);
      expect(res.status).toBe(500);
      const text = await res.text();
      expect(text).toMatch(/Something went wrong on our side \(reference [0-9a-f]{8}\)/);
      expect(text).not.toMatch(/select|chat_messages|params|Failed query|at /i);
    });

    it("a REST fault answers with a reference id and no SQL", async () => {
      const broken = { ...deps, db: brokenDb(deps) };
      const res = await playerMessages(
        broken,
        jsonRequest("/api/player-chat-integration/messages/29", { cookie: staff }),
        { playerId: "29" },
      );
      expect(res.status).toBe(500);
      const body = await res.json();
      expect(body.error.message).toMatch(/^Something went wrong on our side \(reference [0-9a-f]{8}\)\.$/);
    });
    it("a realtime auth fault answers with a reference id and no SQL", async () => {
      const broken = { ...deps, db: brokenDb(deps) };
      const res = await authorizeChannel(broken, channelAuthRequest(player29, "private-player-29"));
      expect(res.status).toBe(500);
      const text = await res.text();
      expect(text).toMatch(/Something went wrong on our side \(reference [0-9a-f]{8}\)/);
      expect(text).not.toMatch(/select|chat_messages|params/i);
    });
  });

  describe("3. channel names are canonical", () => {
    it.each(["private-player-029", "private-player-+29", "private-player-29.0", "private-player-2147483648"])(
      "player 29 is refused %s",
      async (channel) => {
        const res = await authorizeChannel(deps, channelAuthRequest(player29, channel));
        expect(res.status).toBe(403);
      },
    );

    it("player 29 is granted private-player-29", async () => {
      const res = await authorizeChannel(deps, channelAuthRequest(player29, "private-player-29"));
      expect(res.status).toBe(200);
    });
  });

  describe("5. cross-site posting is refused with 403 and stores nothing", () => {
    const attacks: [string, Record<string, string>][] = [
      [
        "text/plain;application/json from evil.example",
        { "content-type": "text/plain;application/json", origin: "http://evil.example" },
      ],
      [
        "JSON from another port of the same host",
        { "content-type": "application/json", origin: "http://localhost:8080" },
      ],
      [
        "JSON marked same-site (a sibling subdomain)",
        { "content-type": "application/json", origin: APP, "sec-fetch-site": "same-site" },
      ],
      ["JSON marked cross-site", { "content-type": "application/json", "sec-fetch-site": "cross-site" }],
    ];

    it.each(attacks)("unified-chat/send: %s", async (_label, headers) => {
      const before = await stored(29);
      const res = await unifiedSend(
        deps,
        forged("/api/unified-chat/send", player29, headers, { id: randomUUID(), text: "pwned" }),
      );
      expect(res.status).toBe(403);
      expect(await stored(29)).toBe(before);
    });

    it.each(attacks)("player-chat-integration/send: %s", async (_label, headers) => {
      const before = await stored(29);
      const res = await integrationSend(
        deps,
        forged("/api/player-chat-integration/send", player29, headers, {
          playerId: 29,
          id: randomUUID(),
          text: "pwned",
        }),
      );
      expect(res.status).toBe(403);
      expect(await stored(29)).toBe(before);
    });

    it.each(attacks)("tRPC chat.send: %s", async (_label, headers) => {
      const before = await stored(29);
      const res = await trpcRoute(
        trpcRequest("chat.send", {
          cookie: player29,
          mutation: true,
          input: { id: randomUUID(), text: "pwned" },
          headers,
        }),
        deps,
      );
      expect(res.status).toBe(403);
      expect(await stored(29)).toBe(before);
    });

    it("the app's own origin with a text/plain body is refused as 415 (parsed media type, not a substring)", async () => {
      const res = await unifiedSend(
        deps,
        forged(
          "/api/unified-chat/send",
          player29,
          { "content-type": "text/plain;application/json", origin: APP },
          {
            id: randomUUID(),
            text: "hi",
          },
        ),
      );
      expect(res.status).toBe(415);
    });

    it("JSON with charset from the app's own page is accepted", async () => {
      const res = await unifiedSend(
        deps,
        forged(
          "/api/unified-chat/send",
          player29,
          { "content-type": "application/json; charset=utf-8", origin: APP, "sec-fetch-site": "same-origin" },
          {
            id: randomUUID(),
            text: "legit",
          },
        ),
      );
      expect(res.status).toBe(201);
    });
  });
});

function forged(path: string, cookie: string, headers: Record<string, string>, body: unknown) {
  return new Request(`${APP}${path}`, { method: "POST", headers: { cookie, ...headers }, body: JSON.stringify(body) });
}

function channelAuthRequest(cookie: string, channel: string) {
  return new Request(`${APP}/api/realtime/auth`, {
    method: "POST",
    headers: { cookie, origin: APP, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ socket_id: "1234.5678", channel_name: channel }).toString(),
  });
}

/** A database whose every query fails the way a real one does (a driver error naming the SQL). */
function brokenDb(deps: HttpDeps): HttpDeps["db"] {
  return new Proxy(deps.db, {
    get(target, prop, receiver) {
      if (prop === "select" || prop === "update" || prop === "insert" || prop === "transaction") {
        return () => {
          throw new Error('Failed query: select "id" from "chat_messages" where "player_id" = $1\nparams: 29');
        };
      }
      return Reflect.get(target, prop, receiver);
    },
  });
}

describe.each(testDbKinds)("push privacy: staff user ids never reach players, on %s", (kind) => {
  let handle: DbHandle;
  let deps: HttpDeps;
  let player: string;
  let staff: string;
  let staffUserId: string;
  beforeAll(async () => {
    handle = await openTestDb(kind);
    deps = await httpTestDeps(handle);
    [player, staff] = await Promise.all([
      signInCookie(deps, "player31@floorline.test"),
      signInCookie(deps, "asha@floorline.test"),
    ]);
    const session = await deps.auth.api.getSession({ headers: new Headers({ cookie: staff }) });
    staffUserId = session?.user.id ?? "";
  });
  afterAll(async () => {
    await handle?.close();
  });

  it("not in chat.send, chat.status, chat.history, chat.since nor the REST answers, once staff hold the chat", async () => {
    const first = await unifiedSend(
      deps,
      jsonRequest("/api/unified-chat/send", { cookie: player, body: { id: randomUUID(), text: "Table 4?" } }),
    );
    const { request } = await first.json();
    await unifiedSend(
      deps,
      jsonRequest("/api/unified-chat/send", {
        cookie: staff,
        body: { id: randomUUID(), text: "Yes", requestId: request.id },
      }),
    );
    const answers = [
      await trpcRoute(
        trpcRequest("chat.send", { cookie: player, mutation: true, input: { id: randomUUID(), text: "thanks" } }),
        deps,
      ),
      await trpcRoute(trpcRequest("chat.status", { cookie: player }), deps),
      await trpcRoute(trpcRequest("chat.history", { cookie: player, input: { limit: 50 } }), deps),
      await trpcRoute(trpcRequest("chat.since", { cookie: player, input: { sinceSeq: 0 } }), deps),
      await unifiedSend(
        deps,
        jsonRequest("/api/unified-chat/send", { cookie: player, body: { id: randomUUID(), text: "ok" } }),
      ),
      await playerMessages(deps, jsonRequest("/api/player-chat-integration/messages/31", { cookie: player }), {
        playerId: "31",
      }),
    ];
    for (const answer of answers) {
      expect(answer.status).toBeLessThan(300);
      expect(await answer.text()).not.toContain(staffUserId);
    }
    // Staff still see who holds the chat.
    const staffView = await trpcRoute(trpcRequest("staff.queue", { cookie: staff }), deps);
    expect(await staffView.text()).toContain(staffUserId);
  });
});
