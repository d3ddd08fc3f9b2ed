import { createHash, createHmac } from "node:crypto";
import PusherServer from "pusher";
import PusherClient, { type Channel, type Options } from "pusher-js";
import { afterEach, expect } from "vitest";
import WebSocket from "ws";
import { type RealtimeConfig, realtimeConfig } from "@/server/realtime/config";
import { createPublisher } from "@/server/realtime/publisher";
import { createRealtimeServer, type RealtimeServer } from "@/server/realtime/server";
import { dropRedisPrefix, TEST_REDIS_URL, testRedisPrefix } from "./redis";

export { dropRedisPrefix, TEST_REDIS_URL, testRedisPrefix };

export const APP = { appId: "test-app", key: "test-key", secret: "test-secret" };

/** The app's publisher (publisher.ts) to a plain-HTTP server on loopback. */
export const publisherOn = (port: number, timeoutMs?: number) =>
  createPublisher({ ...APP, host: "127.0.0.1", port, useTLS: false, timeoutMs });

/** The SDK's RequestError a publish failed with (it must fail, with one). */
export async function publishFailure(attempt: Promise<unknown>) {
  const err = await attempt.then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(PusherServer.RequestError);
  return err as PusherServer.RequestError & { error?: NodeJS.ErrnoException };
}

export type Running = {
  server: RealtimeServer;
  port: number;
  config: RealtimeConfig;
  sdk: PusherServer;
  url: string;
  logs: string[];
  close: () => Promise<void>;
};

/** Our server on a free loopback port, with the official SDK pointed at it. */
export async function startRealtime(overrides: Partial<RealtimeConfig> = {}): Promise<Running> {
  if (process.env.REALTIME_CONFORMANCE === "cluster") return startPair(overrides);
  return startNode(overrides);
}

async function startNode(overrides: Partial<RealtimeConfig> = {}): Promise<Running> {
  const config = realtimeConfig({ ...APP, host: "127.0.0.1", port: 0, ...overrides });
  const logs: string[] = [];
  const server = createRealtimeServer(config, { log: (m) => logs.push(m) });
  const { port } = await server.start();
  const sdk = new PusherServer({ ...APP, host: "127.0.0.1", port: String(port), useTLS: false });
  return { server, port, config, sdk, url: `http://127.0.0.1:${port}`, logs, close: () => server.stop() };
}

/** Options for one node of a Redis cluster under a test's own prefix. */
export function clusterNode(prefix: string, overrides: Partial<RealtimeConfig> = {}): Partial<RealtimeConfig> {
  return { adapter: "redis", redisUrl: TEST_REDIS_URL, redisPrefix: prefix, ...overrides };
}

/**
 * The same suite against two nodes on one Redis: the SDK (HTTP API) talks to node A, every
 * client connects to node B, so each event and each answer crosses the cluster. `server` is B,
 * whose hub holds the clients' sockets.
 */
async function startPair(overrides: Partial<RealtimeConfig> = {}): Promise<Running> {
  const prefix = testRedisPrefix();
  const a = await startNode(clusterNode(prefix, overrides));
  const b = await startNode(clusterNode(prefix, overrides));
  return {
    ...b,
    sdk: a.sdk,
    url: a.url,
    logs: b.logs,
    close: async () => {
      await Promise.all([a.close(), b.close()]);
      await dropRedisPrefix(prefix);
    },
  };
}

export type ClientOpts = {
  presence?: { user_id: string; user_info?: Record<string, unknown> };
  /** Sign with this secret instead of the right one (to test refusals). */
  secret?: string;
  user?: { id: string; user_info?: Record<string, unknown> };
};

type Authorizers = Pick<Options, "channelAuthorization" | "userAuthentication">;

/** The official pusher-js client (Node build) on our server, with the given authorizers. */
export function pusherJs(rt: Pick<Running, "port">, auth: Authorizers) {
  return new PusherClient(APP.key, {
    cluster: "mt1",
    wsHost: "127.0.0.1",
    wsPort: rt.port,
    forceTLS: false,
    enabledTransports: ["ws"],
    disableStats: true,
    ...auth,
  });
}

/** pusher-js authorizing with the official server SDK (no app in between). */
export function connectClient(rt: Pick<Running, "port">, opts: ClientOpts = {}) {
  const signer = new PusherServer({ ...APP, secret: opts.secret ?? APP.secret, host: "127.0.0.1" });
  return pusherJs(rt, {
    channelAuthorization: {
      customHandler: ({ socketId, channelName }, callback) =>
        callback(null, signer.authorizeChannel(socketId, channelName, opts.presence)),
    },
    userAuthentication: {
      customHandler: ({ socketId }, callback) =>
        callback(null, signer.authenticateUser(socketId, opts.user ?? { id: "nobody" })),
    },
  });
}

export function connected(client: PusherClient) {
  return new Promise<string>((resolve, reject) => {
    if (client.connection.state === "connected") return resolve(client.connection.socket_id);
    client.connection.bind("connected", () => resolve(client.connection.socket_id));
    client.connection.bind("failed", () => reject(new Error("connection failed")));
  });
}

export function subscribed(client: PusherClient, name: string) {
  const channel = client.subscribe(name);
  return new Promise<Channel>((resolve, reject) => {
    channel.bind("pusher:subscription_succeeded", () => resolve(channel));
    channel.bind("pusher:subscription_error", (err: unknown) =>
      reject(Object.assign(new Error("subscription_error"), { data: err })),
    );
  });
}

export function nextEvent<T = unknown>(channel: Channel, event: string, where: (data: T) => boolean = () => true) {
  return new Promise<T>((resolve) => {
    const handler = (data: T) => {
      if (!where(data)) return;
      channel.unbind(event, handler);
      resolve(data);
    };
    channel.bind(event, handler);
  });
}

/** A bare WebSocket for protocol edge cases the official client never produces. */
export async function rawClient(
  rt: Pick<Running, "port">,
  path = `/app/${APP.key}?protocol=7&client=test&version=1`,
  opts: WebSocket.ClientOptions = {},
) {
  const ws = new WebSocket(`ws://127.0.0.1:${rt.port}${path}`, opts);
  type Frame = { event: string; channel?: string; data: unknown; user_id?: string };
  const frames: Frame[] = [];
  // Each waiter has already searched `frames`, so a new frame is offered to the waiters alone (in
  // the order they began waiting) and kept only if none takes it. Searching every frame again on
  // each arrival made a wait during a 100,000-frame flood cost ~n²/2 checks (3.5 s or 150 s).
  const waiters: Array<{ predicate: (f: Frame) => boolean; resolve: (f: Frame) => void }> = [];
  ws.on("message", (raw) => {
    const parsed = JSON.parse(raw.toString());
    const f: Frame = { ...parsed, data: typeof parsed.data === "string" ? tryJson(parsed.data) : parsed.data };
    const taker = waiters.findIndex((w) => w.predicate(f));
    if (taker < 0) return void frames.push(f);
    const [w] = waiters.splice(taker, 1);
    w?.resolve(f);
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) =>
    ws.on("close", (code, reason) => resolve({ code, reason: reason.toString() })),
  );
  ws.on("error", () => {});
  /** Resolves with the first frame (from the start of the connection) matching `predicate`, consuming it. */
  const next = (predicate: (f: Frame) => boolean) =>
    new Promise<Frame>((resolve) => {
      const i = frames.findIndex(predicate);
      const [found] = i >= 0 ? frames.splice(i, 1) : [];
      if (found) resolve(found);
      else waiters.push({ predicate, resolve });
    });
  const send = (event: string, data: unknown, channel?: string) =>
    ws.send(JSON.stringify({ event, data, ...(channel ? { channel } : {}) }));
  return { ws, frames, next, send, closed };
}

export async function rawConnected(rt: Pick<Running, "port">) {
  const raw = await rawClient(rt);
  const established = await raw.next((f) => f.event === "pusher:connection_established");
  return { ...raw, socketId: (established.data as { socket_id: string }).socket_id };
}

export function signChannel(socketId: string, channel: string, channelData?: string, secret = APP.secret) {
  const payload = channelData === undefined ? `${socketId}:${channel}` : `${socketId}:${channel}:${channelData}`;
  return `${APP.key}:${createHmac("sha256", secret).update(payload).digest("hex")}`;
}

/** A hand-signed HTTP API request, so tests can send what the SDK never would. */
export function signedFetch(
  rt: Pick<Running, "url">,
  method: "GET" | "POST",
  path: string,
  opts: {
    body?: string;
    query?: Record<string, string>;
    secret?: string;
    timestamp?: number;
    md5Of?: string;
    appId?: string;
  } = {},
) {
  const fullPath = `/apps/${opts.appId ?? APP.appId}${path}`;
  const params: Record<string, string> = {
    ...opts.query,
    auth_key: APP.key,
    auth_timestamp: String(opts.timestamp ?? Math.floor(Date.now() / 1000)),
    auth_version: "1.0",
  };
  if (opts.body !== undefined)
    params.body_md5 = createHash("md5")
      .update(opts.md5Of ?? opts.body)
      .digest("hex");
  const query = Object.keys(params)
    .sort()
    .map((k) => `${k}=${params[k]}`)
    .join("&");
  const signature = createHmac("sha256", opts.secret ?? APP.secret)
    .update(`${method}\n${fullPath}\n${query}`)
    .digest("hex");
  return fetch(`${rt.url}${fullPath}?${query}&auth_signature=${signature}`, {
    method,
    headers: opts.body !== undefined ? { "content-type": "application/json" } : {},
    body: opts.body,
  });
}

function tryJson(s: string) {
  try {
    return JSON.parse(s);
  } catch {
    return s;
  }
}

/**
 * A fresh server per test, stopped after it along with every pusher-js client made through
 * `client()`. Call at the top of a test file.
 */
export function serverPerTest() {
  let current: Running | undefined;
  const clients: PusherClient[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.disconnect();
    await current?.close();
    current = undefined;
  });
  return {
    async start(overrides: Partial<RealtimeConfig> = {}) {
      current = await startRealtime(overrides);
      return current;
    },
    client(opts?: ClientOpts) {
      if (!current) throw new Error("start the server first");
      const c = connectClient(current, opts);
      clients.push(c);
      return c;
    },
    /** For a test that stops the server itself. */
    forget() {
      current = undefined;
    },
  };
}
