import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import type { Auth } from "../auth";
import { createTRPCContext } from "../trpc/init";
import { appRouter } from "../trpc/root";
import { BufferedRequest } from "./buffered-request";
import type { HttpDeps } from "./deps";
import { faultMessage, reportFault } from "./faults";
import { jsonError, respond } from "./handler";
import { assertJsonFromOwnOrigin } from "./same-origin";
import { answerTrpc } from "./trpc-direct";

const TRPC_ENDPOINT = "/api/trpc";

/**
 * The two catch-all routes that are not ours line by line — tRPC and better-auth — behind the
 * same door as the club's REST routes: a POST must come from the app's own origin as JSON.
 */

/** GET /api/trpc/… (queries) and POST /api/trpc/… (mutations, batched queries). */
export function trpcRoute(request: Request | BufferedRequest, deps?: HttpDeps) {
  return respond(async () => {
    if (request.method === "POST") assertJsonFromOwnOrigin(request);
    const createContext = () => createTRPCContext({ headers: request.headers, deps });
    // Our clients' calls without a web Response (trpc-direct.ts); anything else through tRPC's adapter.
    const direct = await answerTrpc(request, { endpoint: TRPC_ENDPOINT, createContext });
    if (direct) return direct;
    const req = request instanceof BufferedRequest ? request.asWebRequest() : request;
    return fetchRequestHandler({ endpoint: TRPC_ENDPOINT, req, router: appRouter, createContext });
  });
}

/** /api/auth/… (sign-in, sign-out, get-session). Sign-out may come without a body. */
export function authRoute(auth: Auth, request: Request) {
  return respond(async () => {
    if (request.method === "POST") assertJsonFromOwnOrigin(request, { bodyless: true });
    const response = await auth.handler(request);
    if (response.status < 500) return response;
    // better-auth's own 5xx bodies may carry a driver message; the client gets a reference only.
    const reference = reportFault(
      "auth",
      new Error(`${request.method} ${new URL(request.url).pathname}: ${response.status} ${await response.text()}`),
    );
    return jsonError(response.status, faultMessage(reference));
  });
}
