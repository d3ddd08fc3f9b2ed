import { randomUUID } from "node:crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { user } from "@/db/schema";
import type { HttpDeps } from "@/server/http/deps";
import { trpcRoute } from "@/server/http/guarded-routes";
import { appRouter } from "@/server/trpc/root";
import { openTestDb, testDbKinds } from "../support/db";
import { httpTestDeps, signInCookie, trpcRequest } from "../support/http";

/**
 * Issue 9's admin, staff and account procedures attacked as a hostile client would: the most
 * powerful caller (an admin) sending wrong types, huge values, NUL characters, out-of-range and
 * unknown ids. Every one must be a 4xx with a sentence, never a 5xx (a database error).
 */
const NUL = "a\u0000b";
const HUGE = "x".repeat(100_000);
const NO_SUCH_UUID = "00000000-0000-4000-8000-000000000000";

type Case = [procedure: string, input: unknown, status: number];
const account = (extra: Record<string, unknown>) => ({
  role: "player",
  email: `hostile-${randomUUID()}@floorline.test`,
  name: "Hostile",
  ...extra,
});

const cases: Case[] = [
  ["admin.createAccount", account({ name: NUL }), 400],
  ["admin.createAccount", account({ name: HUGE }), 400],
  ["admin.createAccount", account({ email: `${HUGE}@floorline.test` }), 400],
  ["admin.createAccount", account({ email: "not an email" }), 400],
  ["admin.createAccount", account({ role: "superuser" }), 400],
  ["admin.createAccount", account({ playerId: 2_147_483_648 }), 400],
  ["admin.createAccount", account({ playerId: -1 }), 400],
  ["admin.createAccount", account({ playerId: 1.5 }), 400],
  ["admin.createAccount", account({ playerId: "029" }), 400],
  ["admin.createAccount", account({ password: NUL.repeat(5) }), 400],
  ["admin.createAccount", account({ emailVerified: true }), 400],
  ["admin.createAccount", account({ role: "staff", playerId: 77 }), 400],
  ["admin.createAccount", { ...account({}), email: "asha@floorline.test" }, 409],
  ["admin.createAccount", account({ playerId: 29 }), 409],
  ["admin.setCapacity", { userId: "nobody", maxConcurrentChats: 1e9 }, 400],
  ["admin.setCapacity", { userId: "nobody", maxConcurrentChats: -1 }, 400],
  ["admin.setCapacity", { userId: "nobody", maxConcurrentChats: "5" }, 400],
  ["admin.setCapacity", { userId: HUGE, maxConcurrentChats: 3 }, 400],
  ["admin.setCapacity", { userId: NUL, maxConcurrentChats: 3 }, 400],
  ["admin.setCapacity", { userId: "nobody", maxConcurrentChats: 3 }, 404],
  ["admin.setDeactivated", { userId: NUL, deactivated: true }, 400],
  ["admin.setDeactivated", { userId: "nobody", deactivated: "yes" }, 400],
  ["admin.setDeactivated", { userId: "nobody", deactivated: true }, 404],
  ["admin.createCannedReply", { title: NUL, body: "hello" }, 400],
  ["admin.createCannedReply", { title: "Hostile", body: NUL }, 400],
  ["admin.createCannedReply", { title: "Hostile", body: HUGE }, 400],
  ["admin.updateCannedReply", { id: NO_SUCH_UUID, title: "Hostile", body: "hello" }, 404],
  ["admin.updateCannedReply", { id: "1; drop table canned_replies", title: "Hostile", body: "hello" }, 400],
  ["admin.deleteCannedReply", { id: NO_SUCH_UUID }, 404],
  ["admin.deleteCannedReply", { id: 42 }, 400],
  ["staff.search", { q: NUL }, 400],
  ["staff.search", { q: HUGE }, 400],
  ["staff.search", { q: "help", limit: 1_000_000 }, 400],
  ["staff.search", { q: "help", cursor: { at: "-200000-01-01T00:00:00.000000Z", id: NO_SUCH_UUID } }, 400],
  ["staff.search", { q: "help", cursor: { at: "yesterday", id: NO_SUCH_UUID } }, 400],
  ["staff.search", { q: "help", cursor: { at: "2026-11-25T10:00:00.123456Z", id: "nope" } }, 400],
  ["staff.addNote", { requestId: NO_SUCH_UUID, text: "hello" }, 404],
  ["staff.addNote", { requestId: NO_SUCH_UUID, text: NUL }, 400],
  ["staff.notes", { requestId: "29" }, 400],
  ["staff.timeline", { requestId: NO_SUCH_UUID }, 200],
  ["staff.transfer", { requestId: NO_SUCH_UUID, toUserId: NUL }, 400],
  ["staff.transfer", { requestId: NO_SUCH_UUID, toUserId: "nobody" }, 404],
  ["staff.release", { requestId: NO_SUCH_UUID }, 404],
  ["staff.takeOver", { requestId: NO_SUCH_UUID }, 404],
  ["account.changePassword", { currentPassword: HUGE, newPassword: "long enough pass" }, 400],
  ["account.changePassword", { currentPassword: "wrong password", newPassword: "long enough pass" }, 400],
  ["account.changePassword", { currentPassword: "floorline-demo", newPassword: HUGE }, 400],
];

describe.each(testDbKinds)("hostile input to issue 9's procedures on %s", (kind) => {
  let handle: DbHandle;
  let deps: HttpDeps;
  let admin: string;
  const procedures = appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>;
  const call = (name: string, input: unknown) =>
    trpcRoute(trpcRequest(name, { cookie: admin, input, mutation: procedures[name]?._def.type === "mutation" }), deps);

  beforeAll(async () => {
    handle = await openTestDb(kind);
    deps = await httpTestDeps(handle);
    await handle.db.update(user).set({ role: "admin" }).where(eq(user.email, "vikram@floorline.test"));
    admin = await signInCookie(deps, "vikram@floorline.test");
  });
  afterAll(async () => {
    await handle?.close();
  });

  it.each(cases)("%s %j → %i", async (name, input, status) => {
    const res = await call(name, input);
    const body = await res.text();
    expect({ status: res.status, body: body.slice(0, 300) }).toMatchObject({ status });
    if (status >= 400) {
      const message = (JSON.parse(body) as { error: { json: { message: string } } }).error.json.message;
      // A sentence for a person, never a database error or a stack.
      expect(message).toMatch(/^[A-Z"]/);
      expect(message).not.toMatch(/violates|syntax|at Object|invalid byte sequence|out of range for type/i);
    }
  });

  // Five rounds of ten: the email's and the Player ID's unique indexes decide, never a 500.
  it("the same email created ten times at once: one account, nine conflicts", async () => {
    for (let round = 0; round < 5; round++) {
      const email = `twice-${randomUUID()}@floorline.test`;
      const statuses = await Promise.all(
        Array.from({ length: 10 }, () => call("admin.createAccount", { role: "staff", email, name: "Twice" })),
      ).then((all) => all.map((r) => r.status).sort());
      expect(statuses).toEqual([200, ...Array(9).fill(409)]);
    }
  });

  it("two canned replies renamed to the same title at once: one rename, one conflict", async () => {
    for (let round = 0; round < 5; round++) {
      const made = await Promise.all(
        [1, 2].map(async (n) => {
          const res = await call("admin.createCannedReply", { title: `race ${n} ${randomUUID()}`, body: "x" });
          return ((await res.json()) as { result: { data: { json: { id: string } } } }).result.data.json.id;
        }),
      );
      const title = `same ${randomUUID()}`;
      const statuses = await Promise.all(
        made.map((id) => call("admin.updateCannedReply", { id, title, body: "y" })),
      ).then((all) => all.map((r) => r.status).sort());
      expect(statuses).toEqual([200, 409]);
    }
  });

  it("the same Player ID asked for ten times at once: one player, nine conflicts", async () => {
    for (let round = 0; round < 5; round++) {
      const playerId = 400_000 + round * 1000 + Math.floor(Math.random() * 1000);
      const statuses = await Promise.all(
        Array.from({ length: 10 }, () => call("admin.createAccount", account({ playerId }))),
      ).then((all) => all.map((r) => r.status).sort());
      expect(statuses).toEqual([200, ...Array(9).fill(409)]);
    }
  });
});
