import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, expect, it } from "vitest";
import { request } from "@/bench/path";

let server: http.Server | undefined;
afterEach(() => {
  server?.closeAllConnections();
  server?.close();
});

// A keep-alive socket the server closes while the client writes a request on it fails that
// request (ECONNRESET, retried once, or EPIPE, not): the bench then counts a send as never
// answered. The web server closes idle sockets after Node's default 5 s, so the bench must close
// its own first, as the app's publisher does (server/realtime/publisher.ts, IDLE_SOCKET_MS).
it("closes a keep-alive socket it left idle before the server's 5 s would", async () => {
  const ended: number[] = [];
  server = http.createServer((_req, res) => res.end("ok"));
  server.keepAliveTimeout = 60_000; // the server never closes first here: only the bench can
  server.on("connection", (socket) => socket.on("end", () => ended.push(performance.now())));
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  const reply = await request(`http://127.0.0.1:${port}/`);
  const answered = performance.now();
  expect(reply.body).toBe("ok");
  await expect.poll(() => ended.length, { timeout: 10_000, interval: 100 }).toBe(1);
  // Node's default, which the web server (server/http/serve.ts) keeps.
  const serversIdleLimit = new http.Server().keepAliveTimeout;
  expect((ended[0] as number) - answered).toBeLessThan(serversIdleLimit);
}, 15_000);
