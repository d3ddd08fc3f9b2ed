import { messageId, photoMessageInput, photoQuery } from "@/protocol/inputs";
import { MAX_PHOTO_BYTES } from "@/protocol/limits";
import { mayReadThread } from "../chat/access";
import { replyWithPhotoAsStaff, sendPhotoAsPlayer } from "../chat/actions";
import { photoBytes } from "../chat/photos";
import { forPlayer } from "../chat/player-view";
import type { HttpDeps } from "./deps";
import { caller, HttpError, parse, respond } from "./handler";
import { assertBytesFromOwnOrigin } from "./same-origin";
import { PHOTO_CSP } from "./security-headers";

/**
 * POST /api/photos?id=…&text=…[&requestId=…] with the image as the body: a photo message from a
 * player (into their chat) or from staff (into the chat named by requestId). Answers like the
 * send routes: 201 stored, 200 already stored (a retry), 4xx with a sentence for anything else.
 */
export function uploadPhoto(deps: HttpDeps, request: Request) {
  return respond(async () => {
    assertBytesFromOwnOrigin(request);
    const input = parse(photoMessageInput, Object.fromEntries(new URL(request.url).searchParams));
    const who = await caller(deps, request);
    if (!who.player && !who.staff) throw new HttpError(403, "Only players and staff can send photos");
    // Only now, for someone who may send: up to 5 MB read, not a byte more.
    const bytes = await readBody(request, MAX_PHOTO_BYTES);
    if (who.player) {
      if (input.requestId) throw new HttpError(400, "Players do not pass requestId: photos go to their open chat");
      const result = await sendPhotoAsPlayer(deps, { id: input.id, text: input.text, bytes, player: who.player });
      return stored(forPlayer(result));
    }
    if (!input.requestId || !who.staff) {
      throw new HttpError(400, "Staff must say which chat to answer: requestId is required");
    }
    const { requestId } = input;
    return stored(await replyWithPhotoAsStaff(deps, { ...input, requestId, bytes, staff: who.staff }));
  });
}

/**
 * GET /api/photos/:id[?size=thumb] — only to those who may read the thread it is in. Always one
 * of the image types sharp wrote, with nosniff and a sandboxing CSP, so no stored file can ever be
 * rendered as a page; cached by the viewer's browser only (a photo never changes).
 */
export function servePhoto(deps: HttpDeps, request: Request, params: { id: string }) {
  return respond(async () => {
    const id = parse(messageId, params.id);
    const { size } = parse(photoQuery, Object.fromEntries(new URL(request.url).searchParams));
    const who = await caller(deps, request);
    const photo = await photoBytes(deps.db, { messageId: id, size });
    if (!photo) throw new HttpError(404, "No such photo");
    if (!mayReadThread(who, photo.playerId)) throw new HttpError(403, "You can only see photos in your own chat");
    return new Response(new Uint8Array(photo.bytes), {
      headers: {
        "content-type": photo.contentType,
        "content-length": String(photo.bytes.length),
        "x-content-type-options": "nosniff",
        "content-security-policy": PHOTO_CSP,
        "content-disposition": "inline",
        // Not for other sites' pages either: an <img> elsewhere would carry the viewer's cookie.
        "cross-origin-resource-policy": "same-origin",
        "cache-control": "private, max-age=86400",
      },
    });
  });
}

const stored = (result: { duplicate: boolean }) =>
  Response.json({ success: true, ...result }, { status: result.duplicate ? 200 : 201 });

/** The body, refused with 413 as soon as it passes `limit` bytes (without reading the rest). */
async function readBody(request: Request, limit: number): Promise<Buffer> {
  const tooLarge = () => new HttpError(413, "The photo is too large: at most 5 MB");
  const declared = Number(request.headers.get("content-length"));
  if (Number.isFinite(declared) && declared > limit) throw tooLarge();
  if (!request.body) throw new HttpError(400, "The photo is empty");
  const chunks: Uint8Array[] = [];
  let total = 0;
  for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
    total += chunk.length;
    if (total > limit) throw tooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}
