import http from "node:http";
import type { AddressInfo } from "node:net";
import Pusher from "pusher";
import { afterAll, describe, expect, it } from "vitest";
import { seedDemoData } from "@/db/seed";
import { createAuth } from "@/server/auth";
import { silentGateway } from "@/server/chat/gateway";
import { clientIp, parseProxyList } from "@/server/http/client-ip";
import type { HttpDeps } from "@/server/http/deps";
import { frontDoor } from "@/server/http/front-door";
import { serveApi } from "@/server/http/node-bridge";
import { openTestDb } from "../support/db";
import { APP } from "../support/realtime";

describe("the client address", () => {
  const none = parseProxyList([]);
  const proxies = parseProxyList(["127.0.0.1", "10.0.0.0/8", "::1"]);

  it("is the socket address when no proxy is trusted, whatever X-Forwarded-For says", () => {
    expect(clientIp("203.0.113.9", "1.2.3.4", none)).toBe("203.0.113.9");
    expect(clientIp("::ffff:203.0.113.9", undefined, none)).toBe("203.0.113.9");
  });

  it("walks X-Forwarded-For from the right past trusted proxies only", () => {
    expect(clientIp("127.0.0.1", "198.51.100.7", proxies)).toBe("198.51.100.7");
    // The leftmost entry is the client's own invention; the first untrusted hop from the right counts.
    expect(clientIp("127.0.0.1", "6.6.6.6, 198.51.100.7, 10.1.2.3", proxies)).toBe("198.51.100.7");
    expect(clientIp("::1", "10.0.0.2, 10.0.0.1", proxies)).toBe("10.0.0.2");
    expect(clientIp("127.0.0.1", "not-an-ip", proxies)).toBe("127.0.0.1");
    expect(clientIp("203.0.113.9", "198.51.100.7", proxies)).toBe("203.0.113.9");
  });

  it("refuses a TRUSTED_PROXIES entry that is not an address or range", () => {
    expect(() => parseProxyList(["10.0.0.0/33"])).toThrow(/10.0.0.0\/33/);
    expect(() => parseProxyList(["proxy.local"])).toThrow(/proxy.local/);
  });
});

/** Finding 6: a new X-Forwarded-For per attempt dodged the sign-in limit when clients reach the app directly. */
describe("the sign-in limit behind the front door", () => {
  const close: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const c of close) await c();
  });

  async function serve(trusted: string[]) {
    const handle = await openTestDb("pglite");
    await seedDemoData(handle.db);
    const auth = createAuth(handle.db, { signInLimitPerMinute: 10 });
    const deps: HttpDeps = {
      db: handle.db,
      auth,
      publisher: new Pusher({ ...APP, host: "127.0.0.1", port: "1" }),
      realtime: silentGateway,
    };
    const door = frontDoor({ proxies: parseProxyList(trusted), dev: false });
    // What serve.ts does: the front door, then the API door (node-bridge.ts) builds the Request.
    const server = http.createServer((req, res) => {
      door(req, res);
      void serveApi(req, res, async () => deps);
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    close.push(async () => {
      server.close();
      await handle.close();
    });
    const { port } = server.address() as AddressInfo;
    return (forwardedFor: string) =>
      fetch(`http://127.0.0.1:${port}/api/auth/sign-in/email`, {
        method: "POST",
        headers: {
          "content-type": "application/json",
          "x-forwarded-for": forwardedFor,
          origin: `http://127.0.0.1:${port}`,
        },
        body: JSON.stringify({ email: "player29@floorline.test", password: "wrong-password" }),
      }).then((r) => r.status);
  }

  const attempts = (signIn: (xff: string) => Promise<number>) =>
    Promise.all(Array.from({ length: 12 }, (_, i) => signIn(`198.51.100.${i + 1}`))).then((s) => s.sort());

  // Twelve password checks (scrypt) at once: seconds on a busy 2-core machine.
  it("counts the socket address when the client is not a trusted proxy", { timeout: 90_000 }, async () => {
    const statuses = await attempts(await serve([]));
    // Ten wrong passwords are let through (401) and the rest refused: one address, one count.
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(10);
    expect(statuses.filter((s) => s !== 401 && s !== 429)).toEqual([]);
  });

  it("counts each forwarded client separately behind a trusted proxy", { timeout: 90_000 }, async () => {
    const statuses = await attempts(await serve(["127.0.0.1"]));
    expect(statuses).toEqual(Array(12).fill(401));
  });
});
