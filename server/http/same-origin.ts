import { env } from "@/env";
import { urlOf } from "./buffered-request";
import { HttpError } from "./handler";

/**
 * Cross-site request forgery. A page on another origin — a sibling subdomain or another port
 * of the club's host — can make the player's browser POST with the player's cookies, and
 * `text/plain` bodies need no preflight. So every state-changing request must come from the
 * app's own origin and carry a JSON body by its parsed media type.
 */

/** What these checks read of a request: a web Request, or the bridge's BufferedRequest. */
export type RequestHead = Pick<Request, "url" | "headers">;

/** `application/json; charset=utf-8` → `application/json`; `text/plain;application/json` → `text/plain`. */
export function mediaTypeOf(contentType: string | null): string | null {
  const type = contentType?.split(";")[0]?.trim().toLowerCase();
  return type ? type : null;
}

/**
 * Why a request is cross-site, or null when it is the app's own. Browsers send `Origin` on every
 * POST and `Sec-Fetch-Site` on every request; a request with neither is not from a browser page
 * (curl, the club's integrations) and cannot ride on a victim's cookies.
 */
export function crossSiteReason(request: RequestHead, appUrl: string = env.APP_URL): string | null {
  const site = request.headers.get("sec-fetch-site");
  if (site !== null && site !== "same-origin" && site !== "none") return `Sec-Fetch-Site: ${site}`;
  const origin = request.headers.get("origin");
  if (origin === null) return null;
  // The app's own: APP_URL, or the origin the request was addressed to (a phone on the club's
  // Wi-Fi may load the app by IP). A browser cannot forge either header on a cross-site request.
  // Both parsed once: APP_URL per setting, the request's by the bridge (issue 11).
  return origin === appOrigin(appUrl) || origin === urlOf(request).origin ? null : `Origin: ${origin}`;
}

let lastApp = { url: "", origin: "" };
function appOrigin(appUrl: string) {
  if (lastApp.url !== appUrl) lastApp = { url: appUrl, origin: new URL(appUrl).origin };
  return lastApp.origin;
}

export function assertSameOrigin(request: RequestHead) {
  if (crossSiteReason(request)) throw new HttpError(403, "Cross-site requests are not accepted");
}

/** A state-changing request: the app's own origin, and a JSON body (or none at all when `bodyless`). */
export function assertJsonFromOwnOrigin(request: RequestHead, opts: { bodyless?: boolean } = {}) {
  assertSameOrigin(request);
  const type = mediaTypeOf(request.headers.get("content-type"));
  if (type === "application/json") return;
  if (opts.bodyless && type === null && !hasBody(request)) return;
  throw new HttpError(415, "Send a JSON body with Content-Type: application/json");
}

function hasBody(request: RequestHead) {
  const length = request.headers.get("content-length");
  return request.headers.has("transfer-encoding") || (length !== null && length !== "0");
}

/**
 * A photo upload: the app's own origin, and the raw bytes as `application/octet-stream`. Like
 * JSON, that media type is not one a cross-site page may send without a CORS preflight (which
 * this app never grants), so the rule above holds for uploads too.
 */
export function assertBytesFromOwnOrigin(request: Request) {
  assertSameOrigin(request);
  if (mediaTypeOf(request.headers.get("content-type")) === "application/octet-stream") return;
  throw new HttpError(415, "Send the photo's bytes with Content-Type: application/octet-stream");
}
