import { z } from "zod";
import { maySubscribe } from "./chat/access";
import type { HttpDeps } from "./http/deps";
import { caller, HttpError, jsonResponse, parse, readForm, respond } from "./http/handler";
import { assertSameOrigin } from "./http/same-origin";
import { staffPublicId } from "./notify/push-identity";
import { realtimeUserId } from "./revocation";

/** pusher-js posts these as a form. */
const socketId = z.string().regex(/^\d+\.\d+$/, { error: "socket_id must look like 1234.5678" });
const channelAuthForm = z.object({ socket_id: socketId, channel_name: z.string().min(1).max(200) });
const userAuthForm = z.object({ socket_id: socketId });

/** POST /api/realtime/auth: signs a subscription only for channels the session may hear. */
export function authorizeChannel(deps: HttpDeps, request: Request) {
  return respond(async () => {
    assertSameOrigin(request);
    const form = parse(channelAuthForm, await readForm(request));
    const who = await caller(deps, request);
    if (!maySubscribe(who, form.channel_name)) {
      throw new HttpError(403, `Not allowed to listen on ${form.channel_name}`);
    }
    const presence = form.channel_name.startsWith("presence-") ? presenceMember(who) : undefined;
    // Written as its text (jsonResponse): a restart's reconnect storm makes one of these per channel
    // of every page at once (bench/README.md, "The reconnect storm").
    return jsonResponse(deps.publisher.authorizeChannel(form.socket_id, form.channel_name, presence));
  });
}

/** POST /api/realtime/user-auth: pusher-js user sign-in (pusher:signin), as the caller's session. */
export function authenticateUser(deps: HttpDeps, request: Request) {
  return respond(async () => {
    assertSameOrigin(request);
    const form = parse(userAuthForm, await readForm(request));
    const who = await caller(deps, request);
    return jsonResponse(
      // Signed in as the session, so ending the session can close this socket (revocation.ts).
      deps.publisher.authenticateUser(form.socket_id, {
        id: realtimeUserId(who.session.id),
        user_info: { name: who.user.name, role: who.user.role },
      }),
    );
  });
}

/**
 * Who this caller is to the other members of a presence channel. The realtime server attaches
 * the member id to every client event, so a typing indicator names the sender from here — the
 * server's knowledge — not from whatever the typing client put in its event. Staff appear by
 * their public id: players share presence-viewing-{id} and must not learn user ids.
 */
export function presenceMember(who: Pick<Awaited<ReturnType<typeof caller>>, "player" | "staff">) {
  if (who.staff) {
    return { user_id: staffPublicId(who.staff.userId), user_info: { name: who.staff.displayName, side: "staff" } };
  }
  if (who.player) {
    return { user_id: `player-${who.player.id}`, user_info: { name: who.player.displayName, side: "player" } };
  }
  throw new HttpError(403, "Only players and staff join presence channels");
}
