import { randomUUID } from "node:crypto";
import { z } from "zod";
import { messageId, messageText, playerId, seqNumber } from "@/protocol/inputs";
import { mayReadThread } from "../chat/access";
import { messagePlayerAsStaff, replyAsStaffMember, sendAsPlayer } from "../chat/actions";
import { findPlayer, isStaffRole, readerActors } from "../chat/actors";
import { decodePage, messagesSince, threadPageWithReader } from "../chat/messages";
import { forPlayer } from "../chat/player-view";
import { getPlayerCard } from "../chat/staff";
import { urlOf } from "./buffered-request";
import type { HttpDeps } from "./deps";
import { caller, HttpError, JsonText, jsonResponse, parse, readJson, respond, signedIn } from "./handler";

/**
 * The club's existing REST endpoints. Same domain functions as tRPC; JSON in and out;
 * errors as `{ error: { status, message, fieldErrors? } }` with 400/401/403/404/409.
 */

const unifiedSendBody = z.strictObject({
  id: messageId,
  text: messageText,
  /** Staff only: the chat to answer. */
  requestId: z.uuid({ error: "requestId must be a UUID" }).optional(),
});

/**
 * The seed's clients send the text as `message` and may leave out `id`. Without an id the server
 * picks one, so such a send is not idempotent: a retry stores a second message. Both `text` and
 * `message` at once is refused by the strict schema (unknown key).
 */
function seedBody(body: unknown): unknown {
  if (typeof body !== "object" || body === null || Array.isArray(body)) return body;
  const { message, ...rest } = body as Record<string, unknown>;
  const withText = message !== undefined && !("text" in rest) ? { ...rest, text: message } : body;
  return "id" in withText ? withText : { ...withText, id: randomUUID() };
}

/** A stored (or already stored) send, answered the way the seed's API did: `success` and the id first. */
const sent = <T extends { message: { id: string }; duplicate: boolean }>(result: T) =>
  Response.json({ success: true, id: result.message.id, ...result }, { status: result.duplicate ? 200 : 201 });

/** POST /api/unified-chat/send — a player writes to the floor; staff answer a chat by requestId. */
export function unifiedSend(deps: HttpDeps, request: Request) {
  return respond(async () => {
    const body = parse(unifiedSendBody, seedBody(await readJson(request)));
    const { user } = await signedIn(deps, request);
    if (isStaffRole(user.role)) {
      if (!body.requestId) throw new HttpError(400, "Staff must say which chat to answer: requestId is required");
      // The reply statement finds the staff record itself and refuses a user without one: no
      // look-up first, as tRPC's staff.reply (issue 11: a round trip per message).
      const result = await replyAsStaffMember(deps, {
        requestId: body.requestId,
        id: body.id,
        text: body.text,
        staff: { userId: user.id },
      });
      return sent(result);
    }
    const player = await findPlayer(deps.db, user);
    if (player) {
      if (body.requestId) throw new HttpError(400, "Players do not pass requestId: messages go to their open chat");
      const result = await sendAsPlayer(deps, { id: body.id, text: body.text, player });
      return sent(forPlayer(result));
    }
    throw new HttpError(403, "Only players and staff can send messages");
  });
}

/** Query strings are text: only plain decimals become numbers ("1e3" or " 5" are refused). */
const decimal = (schema: z.ZodType<number>) =>
  z.preprocess((v) => (typeof v === "string" && /^[0-9]{1,16}$/.test(v) ? Number(v) : v), schema);
const messagesQuery = z.strictObject({
  sinceSeq: decimal(seqNumber).optional(),
  before: decimal(seqNumber.positive()).optional(),
  limit: decimal(z.number().int().min(1).max(200)).default(50),
});

const noQuery = messagesQuery.parse({});
const notYours = () => new HttpError(403, "You can only read your own messages");

/**
 * A query string's parameters as an object for a strict schema, each given at most once:
 * `?limit=50&limit=1` is refused (400) rather than read as whichever one an object keeps.
 */
function singleParams(params: URLSearchParams): Record<string, string> {
  const query = Object.fromEntries(params);
  if (Object.keys(query).length === params.size) return query;
  const twice = [...params.keys()].find((key, i, keys) => keys.indexOf(key) !== i) ?? "";
  throw new HttpError(400, `${twice || "A parameter"} is given more than once`, {
    [twice || "_"]: ["given more than once"],
  });
}

/**
 * GET /api/player-chat-integration/messages/:playerId — a player's thread (their own, or any for
 * staff). It reads the request's URL and headers only, so the bridge hands it a BufferedRequest
 * (api-routes.ts), not a web Request: undici's Request, its AbortSignal and its copy of the
 * headers were ~6 KB of a thread read's garbage (issue 11).
 */
export function playerMessages(
  deps: HttpDeps,
  request: Pick<Request, "url" | "headers">,
  params: { playerId: string },
) {
  return respond(async () => {
    const id = parse(playerId, params.playerId);
    const search = urlOf(request).searchParams;
    // A page's most common read, the latest 50, asks nothing: its defaults, parsed once.
    const query = search.size === 0 ? noQuery : parse(messagesQuery, singleParams(search));
    if (query.sinceSeq !== undefined && query.before !== undefined) {
      throw new HttpError(400, "Use either sinceSeq or before, not both");
    }
    // 404 for an unknown player, looked up only when the page is empty: a message's player exists
    // (foreign key), so a page with messages costs one statement instead of two. No closure or
    // promise of its own per read (issue 11: a thread read's garbage).
    if (query.sinceSeq !== undefined) {
      const who = await caller(deps, request);
      if (!mayReadThread(who, id)) throw notYours();
      const page = await messagesSince(deps.db, { playerId: id, sinceSeq: query.sinceSeq, limit: query.limit });
      if (page.messages.length === 0) await getPlayerCard(deps.db, id);
      return jsonResponse({ playerId: id, ...(who.staff ? page : forPlayer(page)) });
    }
    // The reader's records come with the page, in its one statement; nothing of the page is used
    // until mayReadThread has said yes.
    const { user } = await signedIn(deps, request);
    const { reader, page } = await threadPageWithReader(deps.db, {
      userId: user.id,
      playerId: id,
      cursor: query.before,
      limit: query.limit,
    });
    const who = readerActors(user, reader);
    if (!mayReadThread(who, id)) throw notYours();
    if (page.count === 0) await getPlayerCard(deps.db, id);
    if (who.staff) {
      // Staff see the rows as stored: the page's JSON goes out as Postgres wrote it, never
      // decoded into objects and serialised again, nor joined into one string (issue 11).
      return new JsonText([
        `{"playerId":${id},"messages":`,
        page.messages,
        `,"olderCursor":${page.olderCursor ?? null}}`,
      ]);
    }
    const shown = forPlayer(decodePage(page));
    return jsonResponse({ playerId: id, messages: shown.messages, olderCursor: shown.olderCursor ?? null });
  });
}

const integrationSendBody = z.strictObject({ playerId, id: messageId, text: messageText });

/** POST /api/player-chat-integration/send — to a player by Player ID (staff), or as that player. */
export function integrationSend(deps: HttpDeps, request: Request) {
  return respond(async () => {
    const body = parse(integrationSendBody, seedBody(await readJson(request)));
    const { user } = await signedIn(deps, request);
    if (isStaffRole(user.role)) {
      // An unknown player is a 404 from the send itself (messagePlayer), without a lookup first;
      // so is the staff record (a user without one is refused by the statement): one round trip.
      const result = await messagePlayerAsStaff(deps, { ...body, staff: { userId: user.id } });
      return sent(result);
    }
    const player = await findPlayer(deps.db, user);
    if (player?.id === body.playerId) {
      const result = await sendAsPlayer(deps, { id: body.id, text: body.text, player });
      return sent(forPlayer(result));
    }
    throw new HttpError(403, "Players can only send as themselves");
  });
}
