import http from "node:http";
import type { Socket } from "node:net";

/**
 * Pipelined requests waiting on one connection behind the one being answered, at most: a browser
 * never pipelines, and a client that sends more without reading its answers is cut off.
 */
export const MAX_WAITING_PER_CONNECTION = 16;

/**
 * How long a connection may make no progress at all (nothing read from the client, nothing of an
 * answer taken by it) before the server closes it: a client that never reads its answer would
 * otherwise hold that answer in the process for as long as it keeps the connection open.
 */
export const STALLED_CONNECTION_MS = 60_000;

/**
 * The web server (serve.ts), answering each connection's requests one at a time. Node's server
 * takes every request a client pipelines on a connection at once and keeps each answer in memory
 * until the client reads the answers before it: one connection sending ~250 GETs of a thread page
 * (a 64 KB packet of them) without reading made the process hold every page, and it kept reading
 * more (issue 11, tests/http/slow-reader.test.ts). Here the next request on a connection starts
 * only once the answer before it was handed to the socket in full, so a connection holds at most
 * one answer of ours; past MAX_WAITING_PER_CONNECTION waiting requests, or after `stalledMs` of no
 * progress, the connection is closed (Node's socket timeout: reads, and writes the client took,
 * count as progress; an idle keep-alive connection still closes after `keepAliveTimeout`).
 */
export function oneAtATimeServer(
  listener: http.RequestListener,
  opts: { stalledMs?: number; maxWaiting?: number } = {},
): http.Server {
  const maxWaiting = opts.maxWaiting ?? MAX_WAITING_PER_CONNECTION;
  /** Per connection being answered: what waits behind the answer in progress. */
  const waiting = new WeakMap<Socket, (() => void)[]>();
  const start = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const socket = req.socket;
    // "close" comes once the answer was handed to the socket in full (or the connection ended).
    res.once("close", () => {
      const next = waiting.get(socket)?.shift();
      if (next && !socket.destroyed) next();
      else waiting.delete(socket);
    });
    listener(req, res);
  };
  const server = http.createServer((req, res) => {
    const socket = req.socket;
    // The rest of a packet of pipelined requests after the connection was cut off.
    if (socket.destroyed) return;
    const queue = waiting.get(socket);
    if (!queue) {
      waiting.set(socket, []);
      start(req, res);
    } else if (queue.length < maxWaiting) queue.push(() => start(req, res));
    else {
      waiting.delete(socket);
      socket.destroy();
    }
  });
  server.timeout = opts.stalledMs ?? STALLED_CONNECTION_MS;
  return server;
}
