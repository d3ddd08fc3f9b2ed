import type { Channel } from "pusher-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { typingNameOf } from "@/app/_chat/typing-name";
import { EVENTS } from "@/server/chat/channels";
import type { HttpDeps } from "@/server/http/deps";
import { staffPublicId } from "@/server/notify/push-identity";
import { appWithRealtime } from "../support/app-client";
import { signInCookie } from "../support/http";
import { subscribed } from "../support/realtime";

/** Finding 7: the name in a typing indicator was whatever the typing client put in its event. */
describe("typing names come from the presence membership the server signed", () => {
  let app: Awaited<ReturnType<typeof appWithRealtime>>;
  let deps: HttpDeps;
  beforeAll(async () => {
    app = await appWithRealtime("pglite");
    deps = app.deps;
  });
  afterAll(async () => {
    await app?.close();
  });

  async function join(email: string) {
    return subscribed(app.client(await signInCookie(deps, email)), "presence-viewing-29");
  }
  const nextTyping = (channel: Channel, side: "player" | "staff") =>
    new Promise<string | null>((resolve) =>
      channel.bind(EVENTS.typing, (_data: unknown, metadata?: { user_id?: string }) =>
        resolve(typingNameOf(channel, metadata, side)),
      ),
    );

  it("a player claiming to be staff in the payload is shown under their own name", async () => {
    const staff = await join("asha@floorline.test");
    const player = await join("player29@floorline.test");
    const seen = nextTyping(staff, "staff");
    player.trigger(EVENTS.typing, { who: "staff", name: "Manager — send your password" });
    expect(await seen).toBe("Ravi Kumar");
  });

  it("staff are named by their display name, and players see no staff user id among the members", async () => {
    const player = await join("player29@floorline.test");
    const staff = await join("asha@floorline.test");
    const seen = nextTyping(player, "player");
    staff.trigger(EVENTS.typing, { name: "someone else" });
    expect(await seen).toBe("Asha (floor)");
    const ids: string[] = [];
    (player as unknown as { members: { each(f: (m: { id: string }) => void): void } }).members.each((m) =>
      ids.push(m.id),
    );
    const session = await deps.db.query.staff.findFirst({ where: (s, { eq }) => eq(s.displayName, "Asha (floor)") });
    expect(ids).toContain(staffPublicId(session?.userId ?? ""));
    expect(ids).not.toContain(session?.userId);
  });
});
