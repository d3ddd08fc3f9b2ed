import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  backoffDelay,
  createOneSignalClient,
  MAX_EXTERNAL_IDS_PER_REQUEST,
  type OneSignalClientOptions,
  type PushMessage,
  parseRetryAfter,
} from "@/server/notify/onesignal";
import { manualTimeouts } from "../support/manual-timeouts";
import { type OneSignalStandIn, startOneSignalStandIn } from "../support/onesignal-standin";

let standin: OneSignalStandIn;
let logs: string[];

beforeEach(async () => {
  standin = await startOneSignalStandIn({ unsubscribedExternalIds: ["staff-without-push"] });
  logs = [];
});
afterEach(() => standin.close());

/** A client pointed at the stand-in. The timeout is generous: only the hang tests should hit it. */
function client(overrides: Partial<OneSignalClientOptions> = {}) {
  return createOneSignalClient({
    appId: standin.appId,
    apiKey: standin.apiKey,
    baseUrl: standin.url,
    timeoutMs: 5000,
    maxAttempts: 4,
    backoffMs: 1,
    log: (line) => logs.push(line),
    ...overrides,
  });
}

const message: PushMessage = {
  kind: "new-request",
  externalIds: ["staff-asha", "staff-vikram"],
  heading: "New chat: Ravi Kumar (#29)",
  contents: "Can I cash out?",
  webUrl: "http://localhost:3000/staff?request=r-1",
  topic: "chat-r-1",
  ttlSeconds: 900,
  data: { kind: "new-request", requestId: "r-1", playerId: 29 },
};

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[34][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe("OneSignal client against the stand-in", () => {
  it("sends one well-formed Create message request and reports the notification id", async () => {
    const report = await client().send(message);

    expect(report.batches).toEqual([
      { status: "sent", notificationId: expect.any(String), recipients: 2, attempts: 1 },
    ]);
    expect(standin.requests).toHaveLength(1);
    const [request] = standin.requests;
    expect(request?.status).toBe(200);
    expect(request?.method).toBe("POST");
    expect(request?.url).toBe("/notifications?c=push");
    expect(request?.headers.authorization).toBe(`Key ${standin.apiKey}`);
    expect(request?.headers["content-type"]).toBe("application/json");
    expect(request?.body).toEqual({
      app_id: standin.appId,
      target_channel: "push",
      include_aliases: { external_id: ["staff-asha", "staff-vikram"] },
      headings: { en: "New chat: Ravi Kumar (#29)" },
      contents: { en: "Can I cash out?" },
      web_url: "http://localhost:3000/staff?request=r-1",
      web_push_topic: "chat-r-1",
      collapse_id: "chat-r-1",
      ttl: 900,
      data: { kind: "new-request", requestId: "r-1", playerId: 29 },
      name: "floorline new-request",
      idempotency_key: expect.stringMatching(UUID),
    });
    expect(logs).toEqual([]);
  });

  it("sends nothing when there is no one to notify", async () => {
    const report = await client().send({ ...message, externalIds: [" ", ""] });
    expect(report.batches).toEqual([]);
    expect(standin.requests).toHaveLength(0);
    expect(logs).toEqual([]);
  });

  it("resolves (never rejects) even when handed garbage", async () => {
    const report = await client().send(null as unknown as PushMessage);
    expect(report).toEqual({ batches: [] });
    expect(standin.requests).toHaveLength(0);
    expect(logs).toEqual([expect.stringMatching(/^\[push\] unknown push failed: /)]);
  });

  it("retries a 500 and succeeds on the second attempt, with the same idempotency key", async () => {
    standin.fail(1, 500);
    const report = await client().send(message);

    expect(report.batches).toEqual([expect.objectContaining({ status: "sent", attempts: 2 })]);
    expect(standin.requests.map((r) => r.status)).toEqual([500, 200]);
    const keys = standin.requests.map((r) => r.body?.idempotency_key);
    expect(keys[0]).toEqual(keys[1]);
    expect(logs).toEqual([]);
  });

  it("honours Retry-After on a 429", async () => {
    standin.rateLimit(1, 1);
    const report = await client().send(message);

    expect(report.batches).toEqual([expect.objectContaining({ status: "sent", attempts: 2 })]);
    // Back-off alone would have retried after ~1 ms; the stand-in refuses (429) anything sent
    // before Retry-After has passed, as OneSignal does, so a retry that came early is refused again.
    expect(standin.requests.map((r) => r.status)).toEqual([429, 200]);
    expect(logs).toEqual([]);
  });

  it("never retries before a long Retry-After: it hands the pause to the caller (the notifier)", async () => {
    standin.rateLimit(1, 3600);
    const report = await client({ maxRetryAfterMs: 5 }).send(message);
    expect(report.batches).toEqual([expect.objectContaining({ status: "deferred", retryAfterMs: 3_600_000 })]);
    expect(standin.requests.map((r) => r.status)).toEqual([429]);
  });

  it("gives up after maxAttempts server errors with one logged error, and does not throw", async () => {
    standin.fail(10, 503);
    const report = await client({ maxAttempts: 3 }).send(message);

    expect(report.batches).toEqual([expect.objectContaining({ status: "failed", attempts: 3 })]);
    expect(standin.requests.map((r) => r.status)).toEqual([503, 503, 503]);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/^\[push\] new-request push to 2 recipients gave up after 3 attempts: HTTP 503/);
  });

  it("does not retry a 400 (the request itself is wrong)", async () => {
    // A malformed app id is refused by the stand-in's checks, as OneSignal would refuse it.
    const report = await client({ appId: "not-a-uuid" }).send(message);

    expect(report.batches).toEqual([expect.objectContaining({ status: "failed", attempts: 1 })]);
    expect(standin.requests).toHaveLength(1);
    expect(standin.requests[0]?.status).toBe(400);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/failed, not retried: HTTP 400.*app_id/);
  });

  it("does not retry a 401 (wrong key), and never logs the key", async () => {
    const report = await client({ apiKey: "wrong-key-123" }).send(message);

    expect(report.batches).toEqual([expect.objectContaining({ status: "failed", attempts: 1 })]);
    expect(standin.requests.map((r) => r.status)).toEqual([401]);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/HTTP 401/);
    expect(logs.join("\n")).not.toContain("wrong-key-123");
  });

  it("times out a request that hangs, retries, then gives up with one logged error", async () => {
    standin.hang();
    // Each attempt's timeout expires when this test says, once the stand-in holds the request: a
    // real timer shares this event loop with the stand-in, and on a loaded machine it fired before
    // the request was read (one request recorded instead of two).
    const timeouts = manualTimeouts();
    const sending = client({ timeoutMs: 1000, maxAttempts: 2, startTimeout: timeouts.start }).send(message);
    for (const count of [1, 2]) {
      await standin.waitForRequests(count);
      timeouts.expire();
    }
    const report = await sending;

    expect(report.batches).toEqual([expect.objectContaining({ status: "failed", attempts: 2 })]);
    expect(standin.requests).toHaveLength(2);
    expect(standin.requests.every((r) => r.status === undefined)).toBe(true);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/gave up after 2 attempts: timed out after 1000 ms/);
  });

  it("retries network errors and gives up without throwing", async () => {
    // A port that was just free: connection refused.
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const { port } = closed.address() as AddressInfo;
    await new Promise<void>((resolve) => closed.close(() => resolve()));

    const report = await client({ baseUrl: `http://127.0.0.1:${port}`, maxAttempts: 3 }).send(message);
    expect(report.batches).toEqual([expect.objectContaining({ status: "failed", attempts: 3 })]);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/gave up after 3 attempts: network error/);
  });

  it("splits more than 2,000 external ids into several requests, without duplicates", async () => {
    const ids = Array.from({ length: 4500 }, (_, i) => `staff-${i}`);
    const report = await client().send({ ...message, externalIds: [...ids, "staff-7", "staff-4499"] });

    expect(report.batches.map((b) => [b.status, b.recipients])).toEqual([
      ["sent", 2000],
      ["sent", 2000],
      ["sent", 500],
    ]);
    expect(standin.requests.map((r) => r.status)).toEqual([200, 200, 200]);
    const sentTo = standin.requests.flatMap((r) => idsOf(r.body));
    expect(sentTo).toEqual(ids);
    expect(Math.max(...standin.requests.map((r) => idsOf(r.body).length))).toBe(MAX_EXTERNAL_IDS_PER_REQUEST);
    expect(new Set(standin.requests.map((r) => r.body?.idempotency_key)).size).toBe(3);
  });

  it("reports (and does not retry) a 200 that created nothing because no recipient has push on", async () => {
    const report = await client().send({ ...message, externalIds: ["staff-without-push"] });

    expect(report.batches).toEqual([expect.objectContaining({ status: "not-sent", attempts: 1 })]);
    expect(standin.requests).toHaveLength(1);
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/not sent: .*not subscribed/);
  });

  it("sends the same deduplicated push once, however often it is sent", async () => {
    const deduped = { ...message, dedupeKey: "new-request:r-1" };
    const first = await client().send(deduped);
    const again = await client().send(deduped);

    const [a, b] = standin.requests;
    expect(a?.body?.idempotency_key).toEqual(b?.body?.idempotency_key);
    expect(b?.replayed).toBe(true);
    expect(again.batches).toEqual(first.batches);
  });

  it("stops retrying when its signal is aborted", async () => {
    standin.hang();
    const stop = new AbortController();
    standin.onRequest(() => stop.abort());
    const report = await client({ timeoutMs: 10_000 }).send(message, { signal: stop.signal });

    expect(report.batches).toEqual([expect.objectContaining({ status: "aborted" })]);
    expect(standin.requests).toHaveLength(1);
    expect(logs).toEqual([]);
  });
});

describe("retry timing rules", () => {
  it("backs off exponentially with jitter between half and all of the step, capped", () => {
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, 500, 30_000, () => 1))).toEqual([500, 1000, 2000, 4000]);
    expect([1, 2, 3, 4].map((n) => backoffDelay(n, 500, 30_000, () => 0))).toEqual([250, 500, 1000, 2000]);
    expect(backoffDelay(20, 500, 30_000, () => 1)).toBe(30_000);
  });

  it("reads Retry-After as seconds or an HTTP date", () => {
    expect(parseRetryAfter("3")).toBe(3000);
    expect(parseRetryAfter(new Date(10_000 + 7000).toUTCString(), 10_000)).toBe(7000);
    expect(parseRetryAfter(null)).toBeNull();
    expect(parseRetryAfter("soon")).toBeNull();
  });
});

function idsOf(body: Record<string, unknown> | null) {
  return (body?.include_aliases as { external_id: string[] } | undefined)?.external_id ?? [];
}
