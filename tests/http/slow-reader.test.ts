import type http from "node:http";
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { MAX_WAITING_PER_CONNECTION } from "@/server/http/one-at-a-time";
import { openTestDb, testDbKinds } from "../support/db";
import { httpTestDeps, listenApi, signInCookie } from "../support/http";
import { insertThread } from "../support/thread";

/** One request's raw bytes on a new connection that is read to its end: the status. */
function status(port: number, request: string) {
  return new Promise<number>((resolve, reject) => {
    const socket = net.connect({ host: "127.0.0.1", port });
    const chunks: Buffer[] = [];
    socket.on("data", (c: Buffer) => chunks.push(c));
    socket.on("error", reject);
    socket.on("end", () => {
      resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(Buffer.concat(chunks).toString("latin1"))?.[1] ?? 0));
      socket.destroy();
    });
    socket.write(request);
  });
}

/** A connection whose client never reads what the server sends: its local port. */
async function neverReads(port: number) {
  const socket = net.connect({ host: "127.0.0.1", port });
  socket.pause();
  socket.on("error", () => {});
  await new Promise((resolve) => socket.once("connect", resolve));
  return socket;
}

/**
 * A client that never reads its answers, attacking the thread page's GET with its largest page
 * (200 messages of 30,000 characters: ~6 MB, far past what the kernel buffers for a socket) on the
 * web server as serve.ts runs it (one-at-a-time.ts). Node's own server started every pipelined
 * request at once and kept every answer in memory for as long as the client kept the connection.
 */
describe.each(testDbKinds)("a thread page client that never reads, on %s", (kind) => {
  let handle: DbHandle;
  let api: Awaited<ReturnType<typeof listenApi>>;
  let port: number;
  /** The same, closing a connection after 300 ms without progress (any connection: only the stall test uses it). */
  let stalling: Awaited<ReturnType<typeof listenApi>>;
  let stallingPort: number;
  let cookie: string;
  /** The server's end of each connection, and the requests it started, by the client's port. */
  const sockets = new Map<number, net.Socket>();
  const started = new Map<number, number>();
  const read = (query: string, close = "") =>
    `GET /api/player-chat-integration/messages/29${query} HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nCookie: ${cookie}\r\n${close}\r\n`;

  beforeAll(async () => {
    handle = await openTestDb(kind);
    const deps = await httpTestDeps(handle);
    const watched = {
      frontDoor: true,
      onConnection: (socket: net.Socket) => {
        if (socket.remotePort) sockets.set(socket.remotePort, socket);
      },
      onRequest: (req: http.IncomingMessage) => {
        const from = req.socket.remotePort ?? 0;
        started.set(from, (started.get(from) ?? 0) + 1);
      },
    };
    api = await listenApi(deps, watched);
    port = Number(new URL(api.base).port);
    stalling = await listenApi(deps, { ...watched, stalledMs: 300 });
    stallingPort = Number(new URL(stalling.base).port);
    cookie = await signInCookie(deps, "asha@floorline.test");
    const texts = Array.from({ length: 200 }, (_, i) => `${i} ${"x".repeat(30_000)}`);
    await insertThread(handle.db, { playerId: 29, texts, staffName: "Asha", at: (i) => new Date(i * 1000) });
  });
  afterAll(async () => {
    await api?.close();
    await stalling?.close();
    await handle?.close();
  });

  it("answers 300 pipelined reads one at a time, cuts the connection off, and answers others", async () => {
    const attacker = await neverReads(port);
    attacker.write(read("?limit=200").repeat(300));
    const own = attacker.localPort ?? 0;
    await expect.poll(() => sockets.get(own)?.destroyed).toBe(true);
    // The first read was started; the rest waited behind its answer, and the connection was cut
    // once more than MAX_WAITING_PER_CONNECTION waited: never 300 pages at once.
    expect(started.get(own)).toBeLessThanOrEqual(1 + MAX_WAITING_PER_CONNECTION);
    expect(await status(port, read("?limit=1", "Connection: close\r\n"))).toBe(200);
    attacker.destroy();
  });

  it("closes a connection whose answers are never read once it stalls, and answers others", async () => {
    const attacker = await neverReads(stallingPort);
    attacker.write(read("?limit=200").repeat(3));
    const own = attacker.localPort ?? 0;
    await expect.poll(() => started.get(own)).toBeGreaterThanOrEqual(1);
    await expect.poll(() => sockets.get(own)?.destroyed).toBe(true);
    expect(await status(port, read("?limit=1", "Connection: close\r\n"))).toBe(200);
    attacker.destroy();
  });
});
