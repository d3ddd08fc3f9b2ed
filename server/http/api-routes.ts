import { authenticateUser, authorizeChannel } from "../realtime-auth";
import type { BufferedRequest } from "./buffered-request";
import { integrationSend, playerMessages, unifiedSend } from "./club-api";
import type { HttpDeps } from "./deps";
import { authRoute, trpcRoute } from "./guarded-routes";
import { servePhoto, uploadPhoto } from "./photo-api";

/**
 * Every HTTP API route of the app, in one table. The web server (serve.ts) answers these itself,
 * before Next.js: Next's router cost about 4 ms of CPU per request, several times the work of a
 * send (issue 11). Pages stay with Next.
 *
 * `path` segments: a literal, `:name` (one segment, handed to the route as params.name) or a
 * final `*` (any rest, for the catch-alls of tRPC and better-auth).
 */
export type ApiRoute = {
  method: "GET" | "POST";
  path: string;
} & (
  | {
      /**
       * How the route gets its body: "buffered" (the default) in a Request, read up to
       * MAX_API_BODY_BYTES; "stream" as a stream under the route's own limit (uploads); "json-only"
       * buffered the same way (a GET: no body) but handed over in a BufferedRequest
       * (buffered-request.ts): method, URL, headers and json() / text(), no web Request, for a
       * route that reads it no other way.
       */
      body?: "buffered" | "stream";
      handle: (deps: HttpDeps, request: Request, params: Record<string, string>) => Promise<Response>;
    }
  | {
      body: "json-only";
      handle: (deps: HttpDeps, request: BufferedRequest, params: Record<string, string>) => Promise<Response>;
    }
);

export const apiRoutes: readonly ApiRoute[] = [
  { method: "GET", path: "/api/auth/*", handle: (deps, request) => authRoute(deps.auth, request) },
  { method: "POST", path: "/api/auth/*", handle: (deps, request) => authRoute(deps.auth, request) },
  // tRPC reads a body only with json(), and a POST reaches it only as JSON (guarded-routes.ts).
  { method: "GET", path: "/api/trpc/*", body: "json-only", handle: (deps, request) => trpcRoute(request, deps) },
  { method: "POST", path: "/api/trpc/*", body: "json-only", handle: (deps, request) => trpcRoute(request, deps) },
  { method: "POST", path: "/api/realtime/auth", handle: authorizeChannel },
  { method: "POST", path: "/api/realtime/user-auth", handle: authenticateUser },
  { method: "POST", path: "/api/unified-chat/send", handle: unifiedSend },
  { method: "POST", path: "/api/player-chat-integration/send", handle: integrationSend },
  {
    method: "GET",
    path: "/api/player-chat-integration/messages/:playerId",
    // Reads the URL and headers only: no web Request (club-api.ts).
    body: "json-only",
    handle: (deps, request, params) => playerMessages(deps, request, { playerId: params.playerId ?? "" }),
  },
  { method: "POST", path: "/api/photos", body: "stream", handle: uploadPhoto },
  {
    method: "GET",
    path: "/api/photos/:id",
    handle: (deps, request, params) => servePhoto(deps, request, { id: params.id ?? "" }),
  },
];

export type ApiMatch =
  | { route: ApiRoute; params: Record<string, string> }
  | { route: null; allowed: ApiRoute["method"][] };

/** The route for a request's method and path; `allowed` lists the methods the path has (none: 404). */
export function matchApiRoute(method: string, pathname: string): ApiMatch {
  const segments = pathname.split("/");
  const allowed: ApiRoute["method"][] = [];
  for (const route of apiRoutes) {
    const params = matchPath(route.path.split("/"), segments);
    if (!params) continue;
    // A GET route answers HEAD too, as Next.js did.
    if (route.method === method || (route.method === "GET" && method === "HEAD")) return { route, params };
    allowed.push(route.method);
  }
  return { route: null, allowed };
}

function matchPath(pattern: string[], segments: string[]): Record<string, string> | null {
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i++) {
    const part = pattern[i] as string;
    if (part === "*") return segments.length > i && segments[i] !== "" ? params : null;
    const segment = segments[i];
    if (segment === undefined) return null;
    if (part.startsWith(":")) {
      if (segment === "") return null;
      try {
        params[part.slice(1)] = decodeURIComponent(segment);
      } catch {
        return null; // a malformed escape names no resource
      }
    } else if (part !== segment) return null;
  }
  return segments.length === pattern.length ? params : null;
}
