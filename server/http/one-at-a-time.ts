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
  /** Per connection, made at its first request: whether an answer is in progress, and what waits behind it. */
  const connections = new WeakMap<Socket, { busy: boolean; waiting: [http.IncomingMessage, http.ServerResponse][] }>();
  const start = (req: http.IncomingMessage, res: http.ServerResponse) => {
    // `on`, not `once` (whose wrapper is an object and a function per call): it comes once per answer.
    res.on("close", done);
    listener(req, res);
  };
  // "close" comes once the answer was handed to the socket in full (or the connection ended). One
  // function for every answer, not a closure each (issue 11: a thread read's garbage).
  function done(this: http.ServerResponse) {
    const socket = this.req.socket;
    const connection = connections.get(socket);
    if (!connection) return;
    const next = connection.waiting.shift();
    if (next && !socket.destroyed) start(next[0], next[1]);
    else connection.busy = false;
  }
  const server = http.createServer((req, res) => {
    const socket = req.socket;
    // The rest of a packet of pipelined requests after the connection was cut off.
    if (socket.destroyed) return;
    let connection = connections.get(socket);
    if (!connection) {
      connection = { busy: false, waiting: [] };
      connections.set(socket, connection);
    }
    if (!connection.busy) {
      connection.busy = true;
      start(req, res);
    } else if (connection.waiting.length < maxWaiting) connection.waiting.push([req, res]);
    else {
      connection.waiting.length = 0;
      socket.destroy();
    }
  });
  server.timeout = opts.stalledMs ?? STALLED_CONNECTION_MS;
  return server;
}
