import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { user } from "@/db/schema";
import { playerMessages } from "@/server/http/club-api";
import type { HttpDeps } from "@/server/http/deps";
import { trpcRoute } from "@/server/http/guarded-routes";
import { authorizeChannel } from "@/server/realtime-auth";
import { deactivateUser, reactivateUser } from "@/server/revocation";
import { appWithRealtime, closedWith, signedIn } from "../support/app-client";
import { testDbKinds } from "../support/db";
import { APP, jsonRequest, signInCookie, signOut, trpcRequest } from "../support/http";
import { subscribed } from "../support/realtime";

/** Finding 4: sign-out (and deactivation) end access at once, live connections included. */
describe.each(testDbKinds)("revocation on %s", (kind) => {
  let app: Awaited<ReturnType<typeof appWithRealtime>>;
  let deps: HttpDeps;
  beforeAll(async () => {
    app = await appWithRealtime(kind);
    deps = app.deps;
  });
  afterAll(async () => {
    await app?.close();
  });
  const client = (cookie: string) => app.client(cookie);

  /** Everything a copied cookie could do, as status codes. */
  async function accessWith(cookie: string) {
    const me = await trpcRoute(trpcRequest("chat.me", { cookie }), deps);
    const thread = await playerMessages(deps, jsonRequest("/api/player-chat-integration/messages/29", { cookie }), {
      playerId: "29",
    });
    const channel = await authorizeChannel(
      deps,
      new Request(`${APP}/api/realtime/auth`, {
        method: "POST",
        headers: { cookie, origin: APP, "content-type": "application/x-www-form-urlencoded" },
        body: "socket_id=1234.5678&channel_name=private-player-29",
      }),
    );
    return [me.status, thread.status, channel.status];
  }

  it("after sign-out, cookies copied from before are refused at once and the open socket is closed", async () => {
    const cookie = await signInCookie(deps, "player29@floorline.test");
    expect(await accessWith(cookie)).toEqual([200, 200, 200]);
    const socket = client(cookie);
    await subscribed(socket, "private-player-29");
    await signedIn(socket);
    const closed = closedWith(socket);

    await signOut(deps, cookie);

    expect(await accessWith(cookie)).toEqual([401, 401, 401]);
    expect(await closed).toBe(4009);
  });

  it("signing out on one device leaves the same person's other device connected", async () => {
    const phone = await signInCookie(deps, "player30@floorline.test");
    const laptop = await signInCookie(deps, "player30@floorline.test");
    const phoneSocket = client(phone);
    const laptopSocket = client(laptop);
    await Promise.all([signedIn(phoneSocket), signedIn(laptopSocket)]);
    const phoneClosed = closedWith(phoneSocket);
    await signOut(deps, phone);
    expect(await phoneClosed).toBe(4009);
    expect(laptopSocket.connection.state).toBe("connected");
    expect((await trpcRoute(trpcRequest("chat.me", { cookie: laptop }), deps)).status).toBe(200);
  });

  it("deactivation ends every session and socket of the account and refuses a new sign-in", async () => {
    const cookie = await signInCookie(deps, "player31@floorline.test");
    const socket = client(cookie);
    await signedIn(socket);
    const closed = closedWith(socket);
    const [target] = await deps.db.select().from(user).where(eq(user.email, "player31@floorline.test"));
    if (!target) throw new Error("demo player 31 missing");

    await deactivateUser(deps, target.id);

    expect(await closed).toBe(4009);
    expect((await trpcRoute(trpcRequest("chat.me", { cookie }), deps)).status).toBe(401);
    await expect(signInCookie(deps, "player31@floorline.test")).rejects.toThrow(/403/);
    await reactivateUser(deps.db, target.id);
    await expect(signInCookie(deps, "player31@floorline.test")).resolves.toMatch(/session_token/);
  });
});
