import { randomInt } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import type { RealtimeConfig } from "./config";
import { handleMessage } from "./connection";
import { handleApi } from "./http-api";
import { type Conn, Hub } from "./hub";
import { Metrics } from "./metrics";
import { CODES, closeWith, errorFrame, frame, SUPPORTED_PROTOCOL } from "./protocol";
import { Webhooks } from "./webhooks";

export type RealtimeServer = {
  start(): Promise<{ port: number }>;
  stop(): Promise<void>;
  readonly port: number;
  readonly hub: Hub;
};

/** Messages of one connection held while an earlier one waits on the adapter; more get an error. */
const MAX_QUEUED_MESSAGES = 100;

/** The least hard frame limit (see `hardFrameLimit`). */
const WS_HARD_LIMIT = 256 * 1024;

/**
 * A Pusher Channels protocol 7 server: WebSocket clients on /app/{key}, the signed HTTP API
 * on /apps/{id}/…, plus /health, /ready and /metrics.
 */
export function createRealtimeServer(
  config: RealtimeConfig,
  opts: { log?: (msg: string) => void } = {},
): RealtimeServer {
  const log = opts.log ?? ((msg: string) => console.log(msg));
  const metrics = new Metrics();
  const webhooks = new Webhooks({
    url: config.webhookUrl,
    key: config.key,
    secret: config.secret,
    batchMs: config.webhookBatchMs,
    attempts: config.webhookAttempts,
    backoffMs: config.webhookBackoffMs,
    metrics,
    log,
  });
  const hub = new Hub(config, metrics, webhooks, log);
  let stopping = false;
  let port = 0;

  /** An error in our handling of one request or connection ends that one only, with a log line. */
  const internalError = (where: string, err: unknown) => {
    metrics.internalErrors++;
    log(`[realtime] ${where} failed: ${err instanceof Error ? err.message : String(err)}`);
  };

  const httpServer = http.createServer((req, res) => {
    try {
      const url = parseUrl(req.url);
      if (!url) return json(res, 400, { error: "Bad request" });
      if (url.pathname === "/health") return json(res, 200, { ok: true });
      if (url.pathname === "/ready") {
        // A node cut off from Redis still serves its own sockets, but a balancer should prefer the others.
        const shared = hub.adapter.shared();
        const ready = !stopping && shared !== false;
        return json(res, ready ? 200 : 503, { ready, ...(shared === null ? {} : { redis: shared ? "up" : "down" }) });
      }
      if (url.pathname === "/metrics") {
        res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
        return res.end(
          metrics.render({
            connections: hub.conns.size,
            channels: hub.occupied().length,
            cacheChannels: hub.cacheSize,
            bufferedBytes: bufferedBytes(),
          }),
        );
      }
      if (url.pathname.startsWith("/apps/")) {
        return void handleApi(hub, req, res, url).catch((err) => {
          internalError("HTTP API request", err);
          res.destroy();
        });
      }
      json(res, 404, { error: "Not found" });
    } catch (err) {
      internalError("HTTP request", err);
      if (res.headersSent) res.destroy();
      else json(res, 500, { error: "Internal error" });
    }
  });
  // Slow or stalled requests must not hold sockets for Node's defaults (minutes).
  httpServer.headersTimeout = 10_000;
  httpServer.requestTimeout = 30_000;
  // Publishers must close an idle keep-alive socket before we do (the web app's after 4 s,
  // publisher.ts): a request written on a socket we are closing is reset and never read (issue 11).
  httpServer.keepAliveTimeout = 10_000;

  // Frames past this are cut off by `ws` itself (1009) before they are buffered whole; frames
  // between `maxFrameBytes` and this get a pusher:error and the connection lives on.
  const hardFrameLimit = Math.max(4 * config.maxFrameBytes, WS_HARD_LIMIT);
  const wss = new WebSocketServer({ noServer: true, maxPayload: hardFrameLimit });
  httpServer.on("upgrade", (req, socket, head) => {
    socket.on("error", () => socket.destroy());
    try {
      const url = parseUrl(req.url);
      if (!url) return void socket.end("HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n");
      const match = /^\/app\/([^/]+)$/.exec(url.pathname);
      if (!match || stopping) return void socket.end("HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\n");
      wss.handleUpgrade(req, socket, head, (ws) => {
        // Refusals are sent over the socket (pusher:error + close code) so clients know why;
        // the text is ours, never the key or version the client sent.
        const refuse = (code: number, message: string) => {
          ws.on("error", () => {});
          ws.send(errorFrame(code, message));
          closeWith(ws, code, message);
        };
        if (match[1] !== config.key) return refuse(CODES.appNotFound, "Application does not exist");
        const protocol = url.searchParams.get("protocol");
        if (!protocol) return refuse(CODES.noProtocol, "No protocol version supplied");
        if (Number(protocol) !== SUPPORTED_PROTOCOL)
          return refuse(CODES.unsupportedProtocol, "Unsupported protocol version");
        if (hub.conns.size >= config.maxConnections) return refuse(CODES.overQuota, "Over connection quota");
        accept(ws);
      });
    } catch (err) {
      internalError("WebSocket upgrade", err);
      socket.destroy();
    }
  });

  const bufferedBytes = () => {
    let total = 0;
    for (const ws of wss.clients) total += ws.bufferedAmount;
    return total;
  };

  function accept(ws: Conn["ws"]) {
    const conn: Conn = {
      socketId: `${randomInt(1, 2 ** 31)}.${randomInt(1, 2 ** 31)}`,
      ws,
      channels: new Map(),
      userId: null,
      lastSeen: Date.now(),
      pingSentAt: null,
      eventTokens: config.clientEventsPerSecond,
      tokensAt: Date.now(),
    };
    hub.conns.set(conn.socketId, conn);
    metrics.connectionsTotal++;
    const failed = (err: unknown) => {
      internalError("message handling", err);
      hub.disconnect(conn);
      closeWith(ws, CODES.genericReconnect, "Internal server error");
    };
    // A message that waits on the adapter holds the ones after it (bounded), so each connection's
    // messages are handled in the order sent: an unsubscribe never overtakes its subscribe.
    let pending: Promise<void> | null = null;
    let queued = 0;
    const handle = (data: Parameters<typeof handleMessage>[2], isBinary: boolean) => {
      // A connection already dropped (4100, an error) may still have frames in flight: ignore
      // them, or a subscribe among them would put it back into channels it can never leave.
      if (hub.conns.get(conn.socketId) !== conn) return;
      const result = handleMessage(hub, conn, data, isBinary);
      if (!result) return;
      const settled: Promise<void> = result.catch(failed).finally(() => {
        if (pending === settled) pending = null;
      });
      pending = settled;
      return settled;
    };
    ws.on("message", (data, isBinary) => {
      if (pending) {
        if (queued >= MAX_QUEUED_MESSAGES) return hub.send(conn, errorFrame(null, "Too many messages at once"));
        queued++;
        const after: Promise<void> = pending
          .then(() => handle(data, isBinary))
          .catch(failed)
          .finally(() => {
            queued--;
            if (pending === after) pending = null;
          });
        pending = after;
        return;
      }
      try {
        handle(data, isBinary);
      } catch (err) {
        failed(err);
      }
    });
    ws.on("pong", () => {
      conn.lastSeen = Date.now();
      conn.pingSentAt = null;
    });
    const drop = () => {
      try {
        hub.disconnect(conn);
      } catch (err) {
        internalError("disconnect", err);
      }
    };
    ws.on("close", drop);
    ws.on("error", drop);
    hub.send(
      conn,
      frame("pusher:connection_established", { socket_id: conn.socketId, activity_timeout: config.activityTimeout }),
    );
  }

  /** Idle clients get a ping (protocol and RFC 6455); no answer within the pong timeout → 4201. */
  const sweepEvery = Math.max(50, Math.min(1000, config.pongTimeoutMs / 2, (config.activityTimeout * 1000) / 2));
  const sweeper = setInterval(() => {
    try {
      sweep(Date.now());
    } catch (err) {
      internalError("keep-alive sweep", err);
    }
  }, sweepEvery);
  sweeper.unref();

  function sweep(now: number) {
    hub.expireCache(now);
    for (const conn of hub.conns.values()) {
      if (conn.pingSentAt !== null) {
        if (now - conn.pingSentAt > config.pongTimeoutMs)
          closeWith(conn.ws, CODES.pongTimeout, "Pong reply not received");
      } else if (now - conn.lastSeen > config.activityTimeout * 1000) {
        conn.pingSentAt = now;
        hub.send(conn, frame("pusher:ping", {}));
        conn.ws.ping();
      }
    }
  }

  return {
    hub,
    get port() {
      return port;
    },
    async start() {
      await hub.start();
      return new Promise((resolve, reject) => {
        httpServer.once("error", reject);
        httpServer.listen(config.port, config.host, () => {
          port = (httpServer.address() as AddressInfo).port;
          resolve({ port });
        });
      });
    },
    async stop() {
      stopping = true;
      clearInterval(sweeper);
      // 4200: "reconnect now" — to this server once it is back (the supervisor restarts it), or
      // through the proxy to another node of a cluster.
      for (const conn of hub.conns.values()) closeWith(conn.ws, CODES.genericReconnect, "Server shutting down");
      await webhooks.close();
      await new Promise<void>((resolve) => {
        wss.close(() => resolve());
        for (const client of wss.clients) client.terminate();
      });
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
      await hub.adapter.stop();
    },
  };
}

/** The request target as a URL, or null when it is not one (`//:99999`). */
function parseUrl(target: string | undefined): URL | null {
  try {
    return new URL(target ?? "/", "http://realtime.local");
  } catch {
    return null;
  }
}

function json(res: http.ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
