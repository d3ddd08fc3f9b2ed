import { randomInt } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { WebSocketServer } from "ws";
import type { RealtimeConfig } from "./config";
import { handleMessage } from "./connection";
import { handleApi } from "./http-api";
import { type Conn, Hub } from "./hub";
import { Metrics } from "./metrics";
import { CODES, errorFrame, frame, SUPPORTED_PROTOCOL } from "./protocol";
import { Webhooks } from "./webhooks";

export type RealtimeServer = {
  start(): Promise<{ port: number }>;
  stop(): Promise<void>;
  readonly port: number;
  readonly hub: Hub;
};

/** Frames larger than this are cut off by `ws` itself (1009); smaller oversize ones get an error. */
const WS_HARD_LIMIT = 1024 * 1024;

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
  const hub = new Hub(config, metrics, webhooks);
  let stopping = false;
  let port = 0;

  const httpServer = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://realtime.local");
    if (url.pathname === "/health") return json(res, 200, { ok: true });
    if (url.pathname === "/ready") return json(res, stopping ? 503 : 200, { ready: !stopping });
    if (url.pathname === "/metrics") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
      return res.end(metrics.render({ connections: hub.conns.size, channels: hub.occupied().length }));
    }
    if (url.pathname.startsWith("/apps/")) return void handleApi(hub, req, res, url);
    json(res, 404, { error: "Not found" });
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: WS_HARD_LIMIT });
  httpServer.on("upgrade", (req, socket, head) => {
    const url = new URL(req.url ?? "/", "http://realtime.local");
    const match = /^\/app\/([^/]+)$/.exec(url.pathname);
    if (!match || stopping) {
      socket.end("HTTP/1.1 404 Not Found\r\n\r\n");
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => {
      // Refusals are sent over the socket (pusher:error + close code) so clients know why.
      const refuse = (code: number, message: string) => {
        ws.send(errorFrame(code, message));
        ws.close(code, message);
      };
      if (match[1] !== config.key) return refuse(CODES.appNotFound, `App key ${match[1]} not in this cluster`);
      const protocol = url.searchParams.get("protocol");
      if (!protocol) return refuse(CODES.noProtocol, "No protocol version supplied");
      if (Number(protocol) !== SUPPORTED_PROTOCOL)
        return refuse(CODES.unsupportedProtocol, `Unsupported protocol version ${protocol}`);
      if (hub.conns.size >= config.maxConnections) return refuse(CODES.overQuota, "Over connection quota");
      accept(ws);
    });
  });

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
    ws.on("message", (data, isBinary) => {
      try {
        handleMessage(hub, conn, data, isBinary);
      } catch (err) {
        log(`[realtime] message handling failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    });
    ws.on("pong", () => {
      conn.lastSeen = Date.now();
      conn.pingSentAt = null;
    });
    ws.on("close", () => hub.disconnect(conn));
    ws.on("error", () => hub.disconnect(conn));
    hub.send(
      conn,
      frame("pusher:connection_established", { socket_id: conn.socketId, activity_timeout: config.activityTimeout }),
    );
  }

  /** Idle clients get a ping (protocol and RFC 6455); no answer within the pong timeout → 4201. */
  const sweepEvery = Math.max(50, Math.min(1000, config.pongTimeoutMs / 2, (config.activityTimeout * 1000) / 2));
  const sweeper = setInterval(() => {
    const now = Date.now();
    for (const conn of hub.conns.values()) {
      if (conn.pingSentAt !== null) {
        if (now - conn.pingSentAt > config.pongTimeoutMs) conn.ws.close(CODES.pongTimeout, "Pong reply not received");
      } else if (now - conn.lastSeen > config.activityTimeout * 1000) {
        conn.pingSentAt = now;
        hub.send(conn, frame("pusher:ping", {}));
        conn.ws.ping();
      }
    }
  }, sweepEvery);
  sweeper.unref();

  return {
    hub,
    get port() {
      return port;
    },
    start() {
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
      // 4200: "reconnect now" — clients move to another instance (or this one, restarted).
      for (const conn of hub.conns.values()) conn.ws.close(CODES.shuttingDown, "Server shutting down");
      await webhooks.close();
      await new Promise<void>((resolve) => {
        wss.close(() => resolve());
        for (const client of wss.clients) client.terminate();
      });
      httpServer.closeAllConnections();
      await new Promise<void>((resolve) => httpServer.close(() => resolve()));
    },
  };
}

function json(res: http.ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
