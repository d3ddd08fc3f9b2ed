import http from "node:http";
import type { AddressInfo } from "node:net";
import { env } from "@/env";
import { httpDeps } from "@/server/http/deps";
import { frontDoor } from "@/server/http/front-door";
import { serveApi } from "@/server/http/node-bridge";
import { prepareAtStartup } from "@/server/startup";

/**
 * One web instance as its own process, for the tests of several instances on one database:
 * the app's start-up (migrations, demo accounts, the escalation loop), its front door, and the
 * API routes as serve.ts answers them (node-bridge.ts), without Next's pages. Settings come from env like
 * the app's; it prints its port once it listens.
 */
await prepareAtStartup();
// What server/http/serve.ts does before Next: the client address from TRUSTED_PROXIES' X-Forwarded-For.
const door = frontDoor({ proxies: env.TRUSTED_PROXIES, dev: false });

const server = http.createServer((req, res) => {
  door(req, res);
  void serveApi(req, res, httpDeps);
});
server.listen(0, "127.0.0.1", () =>
  console.log(`[web-instance] listening on ${(server.address() as AddressInfo).port}`),
);
