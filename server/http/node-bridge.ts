import type { IncomingMessage, ServerResponse } from "node:http";
import { Readable } from "node:stream";
import { type ApiRoute, matchApiRoute } from "./api-routes";
import { BufferedRequest } from "./buffered-request";
import type { HttpDeps } from "./deps";
import { faultMessage, reportFault } from "./faults";
import { JsonText, jsonError } from "./handler";

/**
 * Node's request and response on one side, the web `Request` / `Response` our route handlers
 * take and give on the other: how serve.ts answers the API routes (api-routes.ts) without
 * Next.js, and how the tests' web instances do the same.
 */

/**
 * The largest body an API route reads into memory: far above any real request (a batch of
 * tRPC calls with 2,000-character messages is a few KB) and far below what would hurt the
 * process. Uploads stream and keep their own limit (photo-api.ts).
 */
export const MAX_API_BODY_BYTES = 1024 * 1024;

/** Answers one API request: its route's answer, or a JSON 404 / 405 for a path or method it has not. */
export async function serveApi(
  req: IncomingMessage,
  res: ServerResponse,
  deps: () => Promise<HttpDeps>,
): Promise<void> {
  const startedAt = performance.now();
  try {
    const match = matchApiRoute(req.method ?? "GET", pathOf(req.url));
    if (!match.route) {
      if (match.allowed.length) res.setHeader("allow", match.allowed.join(", "));
      const status = match.allowed.length ? 405 : 404;
      const response = jsonError(status, status === 405 ? "Method not allowed" : "No such API route");
      return await sendResponse(res, response, { startedAt });
    }
    const request = await toRequest(req, { body: match.route.body ?? "buffered" });
    if (request instanceof Response) return await sendResponse(res, request, { close: true, startedAt });
    const response = await handleRoute(match.route, await deps(), request, match.params);
    await sendResponse(res, response, { startedAt });
  } catch (err) {
    // A client that went away mid-request (its body cut short) needs no answer and is no fault.
    if (res.headersSent || req.socket.destroyed) res.destroy();
    // Nobody awaits serveApi (serve.ts): a throw from here would end the process, so none leaves.
    else await sendResponse(res, jsonError(500, faultMessage(reportFault("http", err)))).catch(() => res.destroy());
  }
}

/** The route's answer, with the kind of request its `body` says it takes (toRequest made it so). */
function handleRoute(
  route: ApiRoute,
  deps: HttpDeps,
  request: Request | BufferedRequest,
  params: Record<string, string>,
) {
  if (route.body === "json-only") return route.handle(deps, request as BufferedRequest, params);
  return route.handle(deps, request as Request, params);
}

/** The path of a request target, without its query ("/api/x?y" → "/api/x"); "" when it has none. */
export function pathOf(target: string | undefined): string {
  if (!target?.startsWith("/")) return "";
  const end = target.search(/[?#]/);
  return end === -1 ? target : target.slice(0, end);
}

/**
 * The web Request for a Node request: its URL from the Host header (as Next.js builds it, and
 * what the same-origin check compares Origin with), its headers, and its body either buffered
 * (refused with 413 past MAX_API_BODY_BYTES) or as a stream (ApiRoute["body"]); for a "json-only"
 * route the same in a BufferedRequest instead of a web Request. A Response means "answer this".
 */
export async function toRequest(
  req: IncomingMessage,
  opts: { body: NonNullable<ApiRoute["body"]> },
): Promise<Request | BufferedRequest | Response> {
  let url: URL;
  try {
    // X-Forwarded-Proto is only still here when a trusted proxy sent it (front-door.ts).
    const proto = req.headers["x-forwarded-proto"] === "https" ? "https" : "http";
    url = new URL(req.url ?? "/", `${proto}://${req.headers.host ?? "localhost"}`);
  } catch {
    return jsonError(400, "The request's Host header or target is not valid");
  }
  // From req.headers, not req.rawHeaders: the front door (front-door.ts) rewrites X-Forwarded-For
  // and drops proxy headers there, and the sign-in limit must count the address it chose.
  const headers = new Headers();
  try {
    for (const name in req.headers) {
      const value = req.headers[name];
      if (typeof value === "string") headers.set(name, value);
      else if (value) for (const v of value) headers.append(name, v);
    }
  } catch {
    return jsonError(400, "A request header is not valid");
  }
  // HEAD is answered by the GET handler, its body dropped when written (as Next.js did).
  const method = req.method === "HEAD" ? "GET" : (req.method ?? "GET");
  if (method === "GET") {
    // tRPC's queries: its reads without a web Request and its AbortSignal (issue 11), as its POSTs.
    if (opts.body === "json-only") return new BufferedRequest(url, { method, headers });
    return new Request(url, { method, headers });
  }
  if (opts.body === "stream") {
    return new Request(url, {
      method,
      headers,
      body: Readable.toWeb(req) as ReadableStream<Uint8Array>,
      duplex: "half",
    } as RequestInit);
  }
  const body = await readBuffered(req);
  if (body === null) return jsonError(413, `The body is too large: at most ${MAX_API_BODY_BYTES} bytes`);
  if (opts.body === "json-only") return new BufferedRequest(url, { method, headers }, body);
  return new Request(url, { method, headers, body: body.length ? new Uint8Array(body) : undefined });
}

/**
 * The whole body, or null as soon as it passes the limit (the rest is not read). Read with
 * listeners rather than `for await`, whose async iterator and its promises cost each request
 * 10–20 µs of the web process's CPU (issue 11, bench/README.md "Paced sends: the web process's
 * own code"); as it did, an error or a close before the end rejects.
 */
function readBuffered(req: IncomingMessage): Promise<Buffer | null> {
  if (Number(req.headers["content-length"]) > MAX_API_BODY_BYTES) return Promise.resolve(null);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const stop = () => req.off("data", onData).off("end", onEnd).off("error", onError).off("close", onClose);
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_API_BODY_BYTES) {
        chunks.push(chunk);
        return;
      }
      // Left unread, not destroyed: that would take the socket, and the 413 with it (the caller
      // answers with Connection: close, which ends the connection and the rest of the body).
      stop();
      req.pause();
      resolve(null);
    };
    const onEnd = () => {
      stop();
      resolve(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
    };
    const onError = (err: Error) => {
      stop();
      reject(err);
    };
    const onClose = () => onError(new Error("The request closed before its body ended"));
    req.on("data", onData).on("end", onEnd).on("error", onError).on("close", onClose);
  });
}

/**
 * Writes a web Response to Node's response: status, headers (each Set-Cookie kept apart) and
 * body. `close` ends the connection after it, for a request whose body was not read to its end.
 * `startedAt` (performance.now() when the bridge took the request) becomes `Server-Timing:
 * app;dur=<ms>`: the server's own time for the answer, without the client's and the network's,
 * which is what the history targets of issue 11 are stated in (the bench reports both).
 */
export async function sendResponse(
  res: ServerResponse,
  response: Response,
  opts: { close?: boolean; startedAt?: number } = {},
) {
  const own = response instanceof JsonText ? response.headersToWrite : response.headers;
  const headers: Record<string, string | string[]> = own instanceof Headers ? fromWebHeaders(own) : { ...own };
  if (opts.close) headers.connection = "close";
  const body =
    res.req.method === "HEAD"
      ? null
      : response instanceof JsonText
        ? response.toWrite()
        : response.body
          ? Buffer.from(await response.arrayBuffer())
          : null;
  // Its length up front: writeHead fixes the head before end() sees the body, so Node would
  // otherwise send even a one-line answer chunked (its length, the body and the end marker: more
  // pieces to write and for the client to parse; issue 11).
  // A route that framed it itself (tRPC's streamed batches say `Transfer-Encoding: chunked`) keeps its own.
  if (body !== null && headers["content-length"] === undefined && headers["transfer-encoding"] === undefined)
    headers["content-length"] = String(typeof body === "string" ? Buffer.byteLength(body) : body.length);
  if (opts.startedAt !== undefined)
    headers["server-timing"] = `app;dur=${(performance.now() - opts.startedAt).toFixed(3)}`;
  res.writeHead(response.status, headers);
  res.end(body);
}

/** Web Headers as Node writes them, each Set-Cookie kept apart. */
function fromWebHeaders(web: Headers): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  web.forEach((value, name) => {
    if (name !== "set-cookie") headers[name] = value;
  });
  const cookies = web.getSetCookie();
  if (cookies.length) headers["set-cookie"] = cookies;
  return headers;
}
