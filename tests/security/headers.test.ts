import { describe, expect, it, vi } from "vitest";

// Settings are read when env.ts is first imported: set them before importing anything that does.
vi.stubEnv("APP_URL", "https://floor.example");
vi.stubEnv("PUSHER_PUBLIC_PORT", "443");
vi.stubEnv("PUSHER_USE_TLS", "true");
vi.stubEnv("NEXT_PUBLIC_ONESIGNAL_APP_ID", "4b9a6b5e-2f3c-4d1a-9e8f-7a6b5c4d3e2f");

describe("security headers and cookies", () => {
  it("allow only the app's origin, the realtime server and OneSignal's SDK; no framing", async () => {
    const { securityHeaders } = await import("@/server/http/security-headers");
    const headers = securityHeaders({ host: "floor.example", dev: false });
    const csp = headers["content-security-policy"] ?? "";
    expect(csp).toContain("default-src 'self'");
    expect(csp).toMatch(/connect-src 'self' wss:\/\/floor\.example:443 https:\/\/cdn\.onesignal\.com/);
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-eval");
    expect(headers).toMatchObject({
      "x-frame-options": "DENY",
      "referrer-policy": "same-origin",
      "x-content-type-options": "nosniff",
    });
  });

  it("give a stored photo a policy that loads and runs nothing", async () => {
    const { securityHeaders } = await import("@/server/http/security-headers");
    const photo = securityHeaders({
      host: "floor.example",
      dev: false,
      path: "/api/photos/0b7a3c1e-5d2f-4a8b-9c6d-1e2f3a4b5c6d?size=thumb",
    });
    expect(photo["content-security-policy"]).toBe("default-src 'none'; sandbox; frame-ancestors 'none'");
    expect(photo["x-content-type-options"]).toBe("nosniff");
    const page = securityHeaders({ host: "floor.example", dev: false, path: "/player" });
    expect(page["content-security-policy"]).toContain("default-src 'self'");
  });

  // An embedded database of its own: PGlite's start-up (from the migrated template) takes seconds on a busy 2-core machine.
  it("marks the session cookie Secure when the app is served over https", { timeout: 90_000 }, async () => {
    const { openTestDb } = await import("../support/db");
    const { seedDemoData, DEMO_PASSWORD } = await import("@/db/seed");
    const { createAuth } = await import("@/server/auth");
    const handle = await openTestDb("pglite");
    await seedDemoData(handle.db);
    const response = await createAuth(handle.db).handler(
      new Request("https://floor.example/api/auth/sign-in/email", {
        method: "POST",
        headers: { "content-type": "application/json", origin: "https://floor.example" },
        body: JSON.stringify({ email: "player29@floorline.test", password: DEMO_PASSWORD }),
      }),
    );
    expect(response.status).toBe(200);
    const session = response.headers.getSetCookie().find((c) => c.includes("session_token"));
    expect(session).toMatch(/; Secure/i);
    expect(session).toMatch(/; HttpOnly/i);
    await handle.close();
  });
});
