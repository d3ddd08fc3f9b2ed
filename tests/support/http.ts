import type http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import Pusher from "pusher";
import type { DbHandle } from "@/db/client";
import { DEMO_PASSWORD, seedDemoData } from "@/db/seed";
import { createAuth } from "@/server/auth";
import type { RealtimeGateway } from "@/server/chat/gateway";
import { silentGateway } from "@/server/chat/gateway";
import { parseProxyList } from "@/server/http/client-ip";
import type { HttpDeps } from "@/server/http/deps";
import { frontDoor } from "@/server/http/front-door";
import { serveApi } from "@/server/http/node-bridge";
import { oneAtATimeServer } from "@/server/http/one-at-a-time";
import type { Publisher } from "@/server/realtime/publisher";
import { endRealtimeSession } from "@/server/revocation";

export const APP = "http://localhost:3000";

/** Route-handler dependencies over a test database with the demo accounts in it. */
export async function httpTestDeps(
  handle: DbHandle,
  opts: { realtime?: RealtimeGateway; publisher?: Publisher } = {},
): Promise<HttpDeps> {
  await seedDemoData(handle.db);
  const publisher =
    opts.publisher ??
    new Pusher({ appId: "test", key: "test-key", secret: "test-secret", host: "127.0.0.1", port: "1" });
  return {
    db: handle.db,
    auth: createAuth(handle.db, {
      onSessionEnded: (session) => endRealtimeSession(publisher, session.id),
      // Tests sign in far more than ten times a minute; the limit itself is tested on its own.
      signInLimitPerMinute: 1000,
    }),
    publisher,
    realtime: opts.realtime ?? silentGateway,
  };
}

/** Signs in through better-auth's real endpoint and returns the session cookie header. */
export async function signInCookie(deps: HttpDeps, email: string, password = DEMO_PASSWORD) {
  const response = await deps.auth.handler(
    new Request(`${APP}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: APP },
      body: JSON.stringify({ email, password }),
    }),
  );
  if (!response.ok) throw new Error(`sign-in failed: ${response.status} ${await response.text()}`);
  const cookies = response.headers.getSetCookie().map((c) => c.split(";")[0]);
  return cookies.join("; ");
}

export function jsonRequest(
  path: string,
  opts: { cookie?: string; body?: unknown; method?: string; raw?: string } = {},
) {
  const headers: Record<string, string> = { origin: APP };
  if (opts.cookie) headers.cookie = opts.cookie;
  const hasBody = opts.body !== undefined || opts.raw !== undefined;
  if (hasBody) headers["content-type"] = "application/json";
  return new Request(`${APP}${path}`, {
    method: opts.method ?? (hasBody ? "POST" : "GET"),
    headers,
    body: opts.raw ?? (opts.body !== undefined ? JSON.stringify(opts.body) : undefined),
  });
}

/** A tRPC call as the browser's client sends it: queries as GET, mutations as a JSON POST. */
export function trpcRequest(
  procedure: string,
  opts: { cookie?: string; input?: unknown; mutation?: boolean; headers?: Record<string, string> } = {},
) {
  const headers: Record<string, string> = { origin: APP, ...opts.headers };
  if (opts.cookie) headers.cookie = opts.cookie;
  const json = JSON.stringify({ json: opts.input ?? null });
  if (!opts.mutation) {
    const query = opts.input === undefined ? "" : `?input=${encodeURIComponent(json)}`;
    return new Request(`${APP}/api/trpc/${procedure}${query}`, { headers });
  }
  headers["content-type"] ??= "application/json";
  return new Request(`${APP}/api/trpc/${procedure}`, { method: "POST", headers, body: json });
}

export async function signOut(deps: HttpDeps, cookie: string) {
  const response = await deps.auth.handler(
    new Request(`${APP}/api/auth/sign-out`, { method: "POST", headers: { cookie, origin: APP } }),
  );
  if (!response.ok) throw new Error(`sign-out failed: ${response.status} ${await response.text()}`);
}

/**
 * The API door (node-bridge.ts) on a real loopback HTTP server: its base URL and a close. With
 * `frontDoor`, behind the front door first (no trusted proxies), as serve.ts runs it.
 */
export async function listenApi(
  deps: HttpDeps,
  opts: {
    frontDoor?: boolean;
    /** Called with each request the server starts answering (serve.ts's listener). */
    onRequest?: (req: http.IncomingMessage) => void;
    /** Called with each connection the server accepts, its own end of it. */
    onConnection?: (socket: Socket) => void;
    stalledMs?: number;
  } = {},
) {
  const door = opts.frontDoor ? frontDoor({ proxies: parseProxyList([]), dev: false }) : null;
  // As serve.ts runs it: each connection's requests one at a time (one-at-a-time.ts).
  const server = oneAtATimeServer(
    (req, res) => {
      opts.onRequest?.(req);
      door?.(req, res);
      void serveApi(req, res, async () => deps);
    },
    { stalledMs: opts.stalledMs },
  );
  if (opts.onConnection) server.on("connection", opts.onConnection);
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
