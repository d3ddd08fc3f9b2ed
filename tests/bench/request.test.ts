import http from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { afterEach, expect, it } from "vitest";
import { agent, request } from "@/bench/path";

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
  let ended = 0;
  server = http.createServer((_req, res) => res.end("ok"));
  server.keepAliveTimeout = 60_000; // the server never closes first here: only the bench can
  server.on("connection", (socket) => socket.on("end", () => ended++));
  await new Promise<void>((resolve) => server?.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  const reply = await request(`http://127.0.0.1:${port}/`);
  expect(reply.body).toBe("ok");
  // Idle in the pool, it is set to close sooner than the web server (Node's default, which
  // server/http/serve.ts keeps) would close its end: the settings, not a stopwatch, which a
  // loaded machine's late timers could push past the limit.
  const pooled = () => Object.values(agent.freeSockets).flat() as Socket[];
  await expect.poll(() => pooled().length).toBe(1);
  expect(pooled()[0]?.timeout).toBeGreaterThan(0);
  expect(pooled()[0]?.timeout).toBeLessThan(new http.Server().keepAliveTimeout);
  // And it does close it, by itself.
  await expect.poll(() => ended).toBe(1);
});
