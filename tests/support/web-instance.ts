import http from "node:http";
import type { AddressInfo } from "node:net";
import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { env } from "@/env";
import { getAuth } from "@/server/auth";
import { frontDoor } from "@/server/http/front-door";
import { prepareAtStartup } from "@/server/startup";
import { createTRPCContext } from "@/server/trpc/init";
import { appRouter } from "@/server/trpc/root";

/**
 * One web instance as its own process, for the tests of several instances on one database:
 * the app's start-up (migrations, demo accounts, the escalation loop), its front door, and the
 * same handlers `app/api/auth` and `app/api/trpc` serve, without Next's pages. Settings come from env like
 * the app's; it prints its port once it listens.
 */
await prepareAtStartup();
// What server/http/serve.ts does before Next: the client address from TRUSTED_PROXIES' X-Forwarded-For.
const door = frontDoor({ proxies: env.TRUSTED_PROXIES, dev: false });

const server = http.createServer(async (req, res) => {
  door(req, res);
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  const body = chunks.length ? Buffer.concat(chunks) : undefined;
  const headers = new Headers();
  for (const [name, value] of Object.entries(req.headers)) if (typeof value === "string") headers.set(name, value);
  const request = new Request(`http://localhost${req.url}`, { method: req.method, headers, body });
  const response = req.url?.startsWith("/api/auth/")
    ? await (await getAuth()).handler(request)
    : await fetchRequestHandler({
        endpoint: "/api/trpc",
        req: request,
        router: appRouter,
        createContext: () => createTRPCContext({ headers: request.headers }),
      });
  const out: Record<string, string | string[]> = {};
  response.headers.forEach((value, name) => {
    if (name !== "set-cookie") out[name] = value;
  });
  const cookies = response.headers.getSetCookie();
  if (cookies.length) out["set-cookie"] = cookies;
  res.writeHead(response.status, out);
  res.end(Buffer.from(await response.arrayBuffer()));
});
server.listen(0, "127.0.0.1", () =>
  console.log(`[web-instance] listening on ${(server.address() as AddressInfo).port}`),
);
