import type { IncomingMessage, ServerResponse } from "node:http";
import type { Socket } from "node:net";
import { clientIp, isTrusted, type ProxyList, plain } from "./client-ip";
import { securityHeaders } from "./security-headers";

/** Headers only a trusted proxy may set; from anyone else they are dropped before Next.js sees them. */
const PROXY_HEADERS = ["x-forwarded-host", "x-forwarded-proto", "x-forwarded-port", "forwarded", "x-real-ip"];

/**
 * What the web server does to every request before Next.js handles it. Next.js keeps a
 * client's own `X-Forwarded-For` (it adds the socket address only when there is none), so the
 * sign-in limit could be dodged by inventing one per attempt. Here the header is replaced by the
 * one address we believe (client-ip.ts), which is what better-auth's rate limit then counts.
 */
export function frontDoor(opts: { proxies: ProxyList; dev: boolean }) {
  // A connection's peer never changes, so whether it is a trusted proxy is decided once per
  // connection, not on each of its keep-alive requests (a BlockList check allocates; issue 11).
  const trustedPeer = new WeakMap<Socket, boolean>();
  return (req: IncomingMessage, res: ServerResponse) => {
    const socket = req.socket.remoteAddress ?? "";
    let trusted = trustedPeer.get(req.socket);
    if (trusted === undefined) {
      trusted = isTrusted(opts.proxies, socket);
      trustedPeer.set(req.socket, trusted);
    }
    const forwarded = req.headers["x-forwarded-for"];
    const ip = trusted
      ? clientIp(socket, Array.isArray(forwarded) ? forwarded.join(",") : forwarded, opts.proxies)
      : plain(socket);
    if (!trusted) {
      // Not vouched for by a trusted proxy: what the client says about hosts and schemes is ignored.
      for (const name of PROXY_HEADERS) delete req.headers[name];
    }
    req.headers["x-forwarded-for"] = ip;
    for (const [name, value] of Object.entries(
      securityHeaders({ host: req.headers.host, dev: opts.dev, path: req.url }),
    )) {
      res.setHeader(name, value);
    }
  };
}
