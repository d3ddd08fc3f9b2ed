import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { chatRequests, user } from "@/db/schema";
import { parseChannel } from "@/server/chat/channels";
import { apiRoutes } from "@/server/http/api-routes";
import { integrationSend, playerMessages, unifiedSend } from "@/server/http/club-api";
import type { HttpDeps } from "@/server/http/deps";
import { trpcRoute } from "@/server/http/guarded-routes";
import { servePhoto, uploadPhoto } from "@/server/http/photo-api";
import { authenticateUser, authorizeChannel } from "@/server/realtime-auth";
import { appRouter } from "@/server/trpc/root";
import { openTestDb, testDbKinds } from "../support/db";
import { APP, httpTestDeps, jsonRequest, signInCookie, trpcRequest } from "../support/http";
import { photoGet, photoUpload, smallPng } from "../support/photos";

/**
 * Who may call what, for every tRPC procedure, every REST route and channel authorization,
 * as anonymous, player A (29), player B (30), staff and admin. The procedure and route lists
 * are read from the router and from the API route table, so a new one without a row here fails.
 *
 * "allowed" means the call gets past authorization (any answer below 500 other than 401/403:
 * a 409 for a chat another staff member holds is still "allowed"); "refused" means exactly
 * 401 for anonymous and 403 for a signed-in caller without the right.
 */
const ROLES = ["anonymous", "playerA", "playerB", "staff", "admin"] as const;
type Role = (typeof ROLES)[number];
const PLAYERS: Role[] = ["playerA", "playerB"];
const STAFF: Role[] = ["staff", "admin"];

type Fixture = {
  requestA: string;
  requestB: string;
  messageB: string;
  /** A photo in player A's thread. */
  photoA: string;
  cookies: Record<Role, string | null>;
};
type ProcedureRow = { allowed: Role[]; input?: (f: Fixture) => unknown };

const procedureRows: Record<string, ProcedureRow> = {
  "chat.me": { allowed: PLAYERS },
  "chat.status": { allowed: PLAYERS },
  "chat.send": { allowed: PLAYERS, input: () => ({ id: randomUUID(), text: "matrix" }) },
  "chat.history": { allowed: PLAYERS, input: () => ({ limit: 5 }) },
  "chat.since": { allowed: PLAYERS, input: () => ({ sinceSeq: 0 }) },
  "chat.markRead": { allowed: PLAYERS, input: () => ({ upToSeq: 1 }) },
  // Player A's open chat: allowed past authorization (then a 409, still "allowed").
  "chat.rate": { allowed: PLAYERS, input: (f) => ({ requestId: f.requestA, rating: 5 }) },
  "staff.me": { allowed: STAFF },
  "staff.setAccepting": { allowed: STAFF, input: () => ({ accepting: true }) },
  "staff.queue": { allowed: STAFF },
  "staff.conversation": { allowed: STAFF, input: (f) => ({ requestId: f.requestB }) },
  "staff.thread": { allowed: STAFF, input: () => ({ playerId: 30 }) },
  "staff.threadSince": { allowed: STAFF, input: () => ({ playerId: 30, sinceSeq: 0 }) },
  "staff.reply": { allowed: STAFF, input: (f) => ({ requestId: f.requestA, id: randomUUID(), text: "matrix" }) },
  "staff.claim": { allowed: STAFF, input: (f) => ({ requestId: f.requestB }) },
  "staff.resolve": { allowed: STAFF, input: (f) => ({ requestId: f.requestB }) },
  "staff.reopen": { allowed: STAFF, input: (f) => ({ requestId: f.requestB }) },
  "staff.markMessages": { allowed: STAFF, input: () => ({ playerId: 30, status: "received", upToSeq: 1 }) },
  // Running the floor (issue 9): staff tools; players refused all of it.
  "staff.colleagues": { allowed: STAFF },
  "staff.transfer": { allowed: STAFF, input: (f) => ({ requestId: f.requestB, toUserId: "nobody" }) },
  "staff.release": { allowed: STAFF, input: (f) => ({ requestId: f.requestB }) },
  "staff.takeOver": { allowed: ["admin"], input: (f) => ({ requestId: f.requestB }) },
  "staff.notes": { allowed: STAFF, input: (f) => ({ requestId: f.requestB }) },
  "staff.addNote": { allowed: STAFF, input: (f) => ({ requestId: f.requestA, text: "matrix note" }) },
  "staff.timeline": { allowed: STAFF, input: (f) => ({ requestId: f.requestB }) },
  "staff.cannedReplies": { allowed: STAFF },
  "staff.metrics": { allowed: STAFF },
  "staff.search": { allowed: STAFF, input: () => ({ q: "secret" }) },
  // Only admins manage accounts, capacities and canned replies.
  "admin.accounts": { allowed: ["admin"] },
  "admin.createAccount": {
    allowed: ["admin"],
    input: () => ({ role: "player", email: `matrix-${randomUUID()}@floorline.test`, name: "Matrix" }),
  },
  "admin.setDeactivated": { allowed: ["admin"], input: () => ({ userId: "nobody", deactivated: true }) },
  "admin.setCapacity": { allowed: ["admin"], input: () => ({ userId: "nobody", maxConcurrentChats: 3 }) },
  "admin.createCannedReply": { allowed: ["admin"], input: () => ({ title: `matrix ${randomUUID()}`, body: "matrix" }) },
  "admin.updateCannedReply": {
    allowed: ["admin"],
    input: () => ({ id: randomUUID(), title: "matrix", body: "matrix" }),
  },
  "admin.deleteCannedReply": { allowed: ["admin"], input: () => ({ id: randomUUID() }) },
  // Everyone signed in, about their own account only (no user id is taken).
  "account.mustChangePassword": { allowed: [...PLAYERS, ...STAFF] },
  "account.changePassword": {
    allowed: [...PLAYERS, ...STAFF],
    // A new password too short: past authorization, refused by validation (400), nothing changes.
    input: () => ({ currentPassword: "wrong", newPassword: "short" }),
  },
};

type RouteRow =
  | { coveredBy: string }
  | { allowed: Role[]; call: (deps: HttpDeps, f: Fixture, role: Role) => Promise<Response> };

const routeRows: Record<string, RouteRow> = {
  "GET /api/auth/*": { coveredBy: "better-auth; every other row checks the sessions it issues" },
  "POST /api/auth/*": { coveredBy: "better-auth; the same-origin door is in findings.test.ts" },
  "GET /api/trpc/*": { coveredBy: "the procedure rows" },
  "POST /api/trpc/*": { coveredBy: "the procedure rows" },
  "GET /api/player-chat-integration/messages/:playerId": {
    allowed: ["playerA", ...STAFF],
    call: (deps, f, role) =>
      playerMessages(deps, jsonRequest("/api/player-chat-integration/messages/29", { cookie: cookie(f, role) }), {
        playerId: "29",
      }),
  },
  "POST /api/player-chat-integration/send": {
    allowed: ["playerA", ...STAFF],
    call: (deps, f, role) =>
      integrationSend(
        deps,
        jsonRequest("/api/player-chat-integration/send", {
          cookie: cookie(f, role),
          body: { playerId: 29, id: randomUUID(), text: "matrix" },
        }),
      ),
  },
  "POST /api/unified-chat/send": {
    allowed: [...PLAYERS, ...STAFF],
    call: (deps, f, role) =>
      unifiedSend(
        deps,
        jsonRequest("/api/unified-chat/send", {
          cookie: cookie(f, role),
          body: { id: randomUUID(), text: "matrix", ...(STAFF.includes(role) ? { requestId: f.requestA } : {}) },
        }),
      ),
  },
  "POST /api/photos": {
    allowed: [...PLAYERS, ...STAFF],
    call: async (deps, f, role) =>
      uploadPhoto(
        deps,
        photoUpload(await smallPng(), {
          cookie: cookie(f, role),
          query: STAFF.includes(role) ? { requestId: f.requestA } : {},
        }),
      ),
  },
  "GET /api/photos/:id": {
    allowed: ["playerA", ...STAFF],
    call: (deps, f, role) => servePhoto(deps, photoGet(f.photoA, { cookie: cookie(f, role) }), { id: f.photoA }),
  },
  "POST /api/realtime/auth": {
    allowed: [...PLAYERS, ...STAFF],
    call: (deps, f, role) => authorizeChannel(deps, formRequest("/api/realtime/auth", f, role, ownChannel(role))),
  },
  "POST /api/realtime/user-auth": {
    allowed: [...PLAYERS, ...STAFF],
    call: (deps, f, role) => authenticateUser(deps, formRequest("/api/realtime/user-auth", f, role)),
  },
};

/** Channel authorization: every kind of name we grant, the edges of the Player ID range, and strangers. */
const channelRows: Record<string, Role[]> = {
  "private-staff-portal": STAFF,
  "presence-staff": STAFF,
  "private-player-29": ["playerA", ...STAFF],
  "private-player-30": ["playerB", ...STAFF],
  "presence-viewing-29": ["playerA", ...STAFF],
  "presence-viewing-30": ["playerB", ...STAFF],
  "private-player-1": STAFF,
  "private-player-2147483647": STAFF,
  "private-player-2147483648": [],
  "private-player-0": [],
  "private-player-029": [],
  "private-player--29": [],
  "private-player-29 ": [],
  "private-player-9007199254740993": [],
  "presence-viewing-029": [],
  "private-staff-portal-2": [],
  "private-encrypted-player-29": [],
  "player-29": [],
  "#server-to-user-29": [],
};

describe.each(testDbKinds)("authorization matrix on %s", (kind) => {
  let handle: DbHandle;
  let deps: HttpDeps;
  const f = { cookies: {} } as Fixture;
  beforeAll(async () => {
    handle = await openTestDb(kind);
    deps = await httpTestDeps(handle);
    // Admins are staff with more rights: Vikram is made one for the matrix.
    await handle.db.update(user).set({ role: "admin" }).where(eq(user.email, "vikram@floorline.test"));
    f.cookies = {
      anonymous: null,
      playerA: await signInCookie(deps, "player29@floorline.test"),
      playerB: await signInCookie(deps, "player30@floorline.test"),
      staff: await signInCookie(deps, "asha@floorline.test"),
      admin: await signInCookie(deps, "vikram@floorline.test"),
    };
    const first = async (role: Role, text: string) => {
      const res = await unifiedSend(
        deps,
        jsonRequest("/api/unified-chat/send", { cookie: cookie(f, role), body: { id: randomUUID(), text } }),
      );
      return (await res.json()) as { message: { id: string }; request: { id: string } };
    };
    f.requestA = (await first("playerA", "A's first")).request.id;
    const b = await first("playerB", "B's secret");
    f.requestB = b.request.id;
    f.messageB = b.message.id;
    const photo = await uploadPhoto(deps, photoUpload(await smallPng(), { cookie: cookie(f, "playerA") }));
    f.photoA = ((await photo.json()) as { message: { id: string } }).message.id;
  });
  afterAll(async () => {
    await handle?.close();
  });

  const verdict = (status: number) =>
    status === 401 || status === 403 ? "refused" : status < 500 ? "allowed" : "fault";
  const expected = (allowed: Role[], role: Role) => (allowed.includes(role) ? "allowed" : "refused");
  const refusalStatus = (role: Role) => (role === "anonymous" ? 401 : 403);

  describe("tRPC procedures (every one in the router)", () => {
    // Flattened by tRPC: "chat.send" → the procedure.
    const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>;
    const cases = Object.keys(procedures).flatMap((name) => ROLES.map((role) => [name, role] as const));

    it("has a row for every procedure and none for a procedure that is gone", () => {
      expect(Object.keys(procedureRows).sort()).toEqual(Object.keys(procedures).sort());
    });

    it.each(cases)("%s as %s", async (name, role) => {
      const row = procedureRows[name];
      if (!row) throw new Error(`No authorization row for the procedure ${name}: add one`);
      const mutation = procedures[name]?._def.type === "mutation";
      const res = await trpcRoute(
        trpcRequest(name, { cookie: cookie(f, role) ?? undefined, input: row.input?.(f), mutation }),
        deps,
      );
      expect({ name, role, verdict: verdict(res.status) }).toEqual({
        name,
        role,
        verdict: expected(row.allowed, role),
      });
      if (!row.allowed.includes(role)) expect(res.status).toBe(refusalStatus(role));
    });
  });

  describe("REST routes (every route in server/http/api-routes.ts)", () => {
    const routes = discoverRoutes();
    const cases = routes.flatMap((route) => ROLES.map((role) => [route, role] as const));

    it("has a row for every route and method", () => {
      expect(Object.keys(routeRows).sort()).toEqual(routes.sort());
    });

    it.each(cases)("%s as %s", async (route, role) => {
      const row = routeRows[route];
      if (!row) throw new Error(`No authorization row for ${route}: add one`);
      if ("coveredBy" in row) return;
      const res = await row.call(deps, f, role);
      expect({ route, role, verdict: verdict(res.status) }).toEqual({
        route,
        role,
        verdict: expected(row.allowed, role),
      });
      if (!row.allowed.includes(role)) expect(res.status).toBe(refusalStatus(role));
    });
  });

  describe("channel authorization", () => {
    const cases = Object.keys(channelRows).flatMap((channel) => ROLES.map((role) => [channel, role] as const));

    it("covers every kind of channel the app grants", () => {
      const kinds = new Set(Object.keys(channelRows).map((name) => parseChannel(name)?.kind));
      expect([...kinds].filter(Boolean).sort()).toEqual(["player", "staff", "viewing"]);
    });

    it.each(cases)("%j as %s", async (channel, role) => {
      const res = await authorizeChannel(deps, formRequest("/api/realtime/auth", f, role, channel));
      const allowed = channelRows[channel] ?? [];
      expect(res.status).toBe(allowed.includes(role) ? 200 : refusalStatus(role));
    });
  });

  describe("player A asks for player B's things", () => {
    it("B's thread over REST: 403", async () => {
      const res = await playerMessages(
        deps,
        jsonRequest("/api/player-chat-integration/messages/30", { cookie: f.cookies.playerA ?? undefined }),
        { playerId: "30" },
      );
      expect(res.status).toBe(403);
    });

    it("B's thread over tRPC (a playerId the player procedures do not take): 400, and nothing of B's", async () => {
      const res = await trpcRoute(
        trpcRequest("chat.history", { cookie: f.cookies.playerA ?? undefined, input: { limit: 5, playerId: 30 } }),
        deps,
      );
      expect(res.status).toBe(400);
      expect(await res.text()).not.toContain("B's secret");
    });

    it("B's request: staff.conversation 403; naming a request when sending 400", async () => {
      const res = await trpcRoute(
        trpcRequest("staff.conversation", { cookie: f.cookies.playerA ?? undefined, input: { requestId: f.requestB } }),
        deps,
      );
      expect(res.status).toBe(403);
      const send = await unifiedSend(
        deps,
        jsonRequest("/api/unified-chat/send", {
          cookie: f.cookies.playerA ?? undefined,
          body: { id: randomUUID(), text: "into B's chat", requestId: f.requestB },
        }),
      );
      expect(send.status).toBe(400);
    });

    it("B's message id: 409 without B's text", async () => {
      const res = await trpcRoute(
        trpcRequest("chat.send", {
          cookie: f.cookies.playerA ?? undefined,
          mutation: true,
          input: { id: f.messageB, text: "mine now" },
        }),
        deps,
      );
      expect(res.status).toBe(409);
      expect(await res.text()).not.toContain("B's secret");
      const [stillB] = await handle.db.select().from(chatRequests).where(eq(chatRequests.id, f.requestB));
      expect(stillB?.playerId).toBe(30);
    });

    it("posting as B over REST: 403", async () => {
      const res = await integrationSend(
        deps,
        jsonRequest("/api/player-chat-integration/send", {
          cookie: f.cookies.playerA ?? undefined,
          body: { playerId: 30, id: randomUUID(), text: "as B" },
        }),
      );
      expect(res.status).toBe(403);
    });
  });

  describe("Player IDs at and beyond the edges of the range", () => {
    it.each([
      ["1", 404],
      ["2147483647", 404],
      ["2147483648", 400],
      ["0", 400],
      ["-1", 400],
      ["029", 400],
      ["29.0", 400],
      ["2.9e1", 400],
    ])("staff GET messages/%s → %i", async (id, status) => {
      const res = await playerMessages(
        deps,
        jsonRequest(`/api/player-chat-integration/messages/${encodeURIComponent(id)}`, {
          cookie: f.cookies.staff ?? undefined,
        }),
        { playerId: id },
      );
      expect(res.status).toBe(status);
    });

    it.each([
      [2147483647, 200],
      [2147483648, 400],
      [0, 400],
      [-1, 400],
      [1.5, 400],
      [Number.MAX_SAFE_INTEGER + 2, 400],
    ])("staff.thread with playerId %s → %i", async (playerId, status) => {
      const res = await trpcRoute(
        trpcRequest("staff.thread", { cookie: f.cookies.staff ?? undefined, input: { playerId } }),
        deps,
      );
      expect(res.status).toBe(status);
    });
  });
});

function cookie(f: Fixture, role: Role) {
  return f.cookies[role] ?? undefined;
}

function ownChannel(role: Role) {
  return role === "playerA" ? "private-player-29" : role === "playerB" ? "private-player-30" : "private-staff-portal";
}

function formRequest(pathname: string, f: Fixture, role: Role, channel?: string) {
  const form = new URLSearchParams({
    socket_id: "1234.5678",
    ...(channel !== undefined ? { channel_name: channel } : {}),
  });
  const headers: Record<string, string> = { origin: APP, "content-type": "application/x-www-form-urlencoded" };
  const c = cookie(f, role);
  if (c) headers.cookie = c;
  return new Request(`${APP}${pathname}`, { method: "POST", headers, body: form.toString() });
}

/** "METHOD /api/…" for every route the web server answers (server/http/api-routes.ts). */
function discoverRoutes(): string[] {
  return apiRoutes.map((route) => `${route.method} ${route.path}`);
}
