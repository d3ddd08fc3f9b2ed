import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { user } from "@/db/schema";
import { runAdminCommand } from "@/server/admin/cli";
import type { HttpDeps } from "@/server/http/deps";
import { trpcRoute } from "@/server/http/guarded-routes";
import { openTestDb, testDbKinds } from "../support/db";
import { httpTestDeps, signInCookie, trpcRequest } from "../support/http";

/** Deactivation from the admin page and `npm run admin`, on main's deactivateUser (server/revocation.ts). */
describe.each(testDbKinds)("deactivating accounts on %s", (kind) => {
  let handle: DbHandle;
  let deps: HttpDeps;
  let admin: string;
  beforeAll(async () => {
    handle = await openTestDb(kind);
    deps = await httpTestDeps(handle);
    admin = await signInCookie(deps, "admin@floorline.test");
  });
  afterAll(async () => {
    await handle?.close();
  });

  const idOf = async (email: string) => {
    const [row] = await handle.db.select().from(user).where(eq(user.email, email));
    if (!row) throw new Error(`${email} missing`);
    return row.id;
  };
  const setDeactivated = (userId: string, deactivated: boolean, cookie = admin) =>
    trpcRoute(trpcRequest("admin.setDeactivated", { cookie, mutation: true, input: { userId, deactivated } }), deps);

  it("admin page: deactivation ends the sessions and refuses sign-in; reactivation lets them back", async () => {
    const cookie = await signInCookie(deps, "player29@floorline.test");
    const id = await idOf("player29@floorline.test");

    expect((await setDeactivated(id, true)).status).toBe(200);
    expect((await trpcRoute(trpcRequest("chat.me", { cookie }), deps)).status).toBe(401);
    await expect(signInCookie(deps, "player29@floorline.test")).rejects.toThrow(/403/);
    const listed = await trpcRoute(trpcRequest("admin.accounts", { cookie: admin }), deps);
    expect(JSON.stringify(await listed.json())).toMatch(/player29@floorline\.test[^}]*"deactivatedAt":"/);

    expect((await setDeactivated(id, false)).status).toBe(200);
    await expect(signInCookie(deps, "player29@floorline.test")).resolves.toMatch(/session_token/);
  });

  it("an admin cannot deactivate themselves, and staff cannot deactivate anyone", async () => {
    expect((await setDeactivated(await idOf("admin@floorline.test"), true)).status).toBe(400);
    const staffCookie = await signInCookie(deps, "asha@floorline.test");
    expect((await setDeactivated(await idOf("player30@floorline.test"), true, staffCookie)).status).toBe(403);
    await expect(signInCookie(deps, "player30@floorline.test")).resolves.toMatch(/session_token/);
  });

  it("npm run admin -- deactivate / reactivate <email>", async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (l: string) => out.push(l), err: (l: string) => err.push(l) };
    const auth = async () => deps.auth;
    const cookie = await signInCookie(deps, "player31@floorline.test");

    expect(await runAdminCommand(handle.db, ["deactivate", "player31@floorline.test"], io, auth)).toBe(0);
    expect(out.at(-1)).toBe("Deactivated player31@floorline.test; its sessions were ended.");
    expect((await trpcRoute(trpcRequest("chat.me", { cookie }), deps)).status).toBe(401);
    await expect(signInCookie(deps, "player31@floorline.test")).rejects.toThrow(/403/);

    expect(await runAdminCommand(handle.db, ["reactivate", "player31@floorline.test"], io, auth)).toBe(0);
    await expect(signInCookie(deps, "player31@floorline.test")).resolves.toMatch(/session_token/);

    expect(await runAdminCommand(handle.db, ["deactivate", "nobody@floorline.test"], io, auth)).toBe(1);
    expect(err.at(-1)).toBe("No account with the email nobody@floorline.test");
  });
});
