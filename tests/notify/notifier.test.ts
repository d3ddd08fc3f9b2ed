import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  createNotifier,
  createNotifierFromEnv,
  type Notifier,
  newRequestNotification,
  type PushMessage,
} from "@/server/notify/notifier";
import { createOneSignalClient, type OneSignalClientOptions } from "@/server/notify/onesignal";
import { manualTimeouts } from "../support/manual-timeouts";
import { type OneSignalStandIn, startOneSignalStandIn } from "../support/onesignal-standin";

let standin: OneSignalStandIn;
let logs: string[];
let notifiers: Notifier[];

beforeEach(async () => {
  standin = await startOneSignalStandIn();
  logs = [];
  notifiers = [];
});
afterEach(async () => {
  for (const n of notifiers) await n.stop();
  await standin.close();
});

function notifier(
  opts: { client?: Partial<OneSignalClientOptions>; maxQueue?: number; concurrency?: number; maxAgeMs?: number } = {},
) {
  const { client: clientOptions, ...notifierOptions } = opts;
  const client = createOneSignalClient({
    appId: standin.appId,
    apiKey: standin.apiKey,
    baseUrl: standin.url,
    timeoutMs: 5000,
    maxAttempts: 2,
    backoffMs: 1,
    log: (line) => logs.push(line),
    ...clientOptions,
  });
  const n = createNotifier({ client, log: (line) => logs.push(line), ...notifierOptions });
  notifiers.push(n);
  return n;
}

function push(n: number): PushMessage {
  return newRequestNotification({
    requestId: `req-${n}`,
    playerId: 29,
    playerName: "Ravi Kumar",
    preview: `message ${n}`,
    staffExternalIds: ["staff-asha"],
    appUrl: "http://localhost:3000",
  });
}

const contentsOf = (s: OneSignalStandIn) =>
  s.requests.map((r) => (r.body?.contents as { en?: string } | undefined)?.en);

describe("notifier", () => {
  it("pauses the whole queue for a long Retry-After, then sends everything once", async () => {
    standin.rateLimit(1, 1);
    const n = notifier({ client: { maxRetryAfterMs: 100 }, concurrency: 1 });
    n.enqueue(push(1));
    n.enqueue(push(2));
    await n.idle();
    // The stand-in refuses (429) anything sent before Retry-After has passed, as OneSignal does:
    // nothing went out early.
    expect(standin.requests.map((r) => r.status)).toEqual([429, 200, 200]);
    expect(contentsOf(standin).slice(1)).toEqual(["message 1", "message 2"]);
  });

  it("drops pushes that waited longer than maxAgeMs instead of sending them late", async () => {
    standin.rateLimit(1, 1);
    const n = notifier({ client: { maxRetryAfterMs: 100 }, maxAgeMs: 500 });
    n.enqueue(push(1));
    await n.idle();
    expect(standin.requests.map((r) => r.status)).toEqual([429]);
    expect(n.stats()).toMatchObject({ dropped: 1, queued: 0 });
    expect(logs.some((l) => /dropping notifications queued more than 0.5 s ago/.test(l))).toBe(true);
  });

  it("enqueue returns before the request leaves; idle() resolves once it is sent", async () => {
    const n = notifier();
    const order: string[] = [];
    standin.onRequest(() => order.push("stand-in received"));

    const returned = n.enqueue(push(1));
    order.push("enqueue returned");
    expect(returned).toBeUndefined(); // not a promise: nothing for the caller to await

    await n.idle();
    expect(order).toEqual(["enqueue returned", "stand-in received"]);
    expect(standin.accepted).toHaveLength(1);
    expect(n.stats()).toEqual({ enabled: true, queued: 0, active: 0, dropped: 0 });
    expect(logs).toEqual([]);
  });

  it("a hanging OneSignal never holds up enqueue: it times out and gives up with one logged error", async () => {
    standin.hang();
    // Each attempt's timeout expires when this test says, once the stand-in holds the request: a
    // real timer shares this event loop with the stand-in, and a loaded machine stalled the loop
    // past it before the request was read (3 requests recorded instead of 4).
    const timeouts = manualTimeouts();
    const n = notifier({ client: { timeoutMs: 1000, maxAttempts: 2, startTimeout: timeouts.start }, concurrency: 1 });

    n.enqueue(push(1));
    const [hanging] = await standin.waitForRequests(1);
    // The only worker is stuck on a request OneSignal is not answering…
    expect(hanging?.status).toBeUndefined();
    // …and a caller still gets control straight back.
    n.enqueue(push(2));
    expect(standin.requests).toHaveLength(1);
    expect(n.stats()).toMatchObject({ queued: 1, active: 1 });

    // 2 pushes × 2 attempts, each cut once it has reached the stand-in.
    timeouts.expire();
    for (const count of [2, 3, 4]) {
      await standin.waitForRequests(count);
      timeouts.expire();
    }
    await n.idle();
    expect(standin.requests).toHaveLength(4);
    expect(standin.requests.every((r) => r.status === undefined)).toBe(true);
    expect(logs).toHaveLength(2);
    for (const line of logs) expect(line).toMatch(/gave up after 2 attempts: timed out after 1000 ms/);
  });

  it("sends at most `concurrency` at once and keeps the rest queued", async () => {
    standin.hang();
    // Timeouts that never expire: the two requests stay in flight however slowly the stand-in reads them.
    const n = notifier({ client: { startTimeout: manualTimeouts().start }, concurrency: 2 });
    for (const i of [1, 2, 3]) n.enqueue(push(i));

    await standin.waitForRequests(2);
    expect(n.stats()).toMatchObject({ queued: 1, active: 2 });

    await n.stop();
    expect(logs).toEqual(["[push] stopping: dropped 1 queued and abandoned 2 in-flight notification(s)"]);
    expect(standin.requests).toHaveLength(2);
    expect(n.stats()).toMatchObject({ queued: 0, active: 0 });
    n.enqueue(push(4)); // after stop: ignored, no throw
    await n.idle();
    expect(standin.requests).toHaveLength(2);
  });

  it("bounds the queue by dropping the oldest, and says so", async () => {
    const n = notifier({ maxQueue: 2, concurrency: 1 });
    for (const i of [1, 2, 3, 4, 5]) n.enqueue(push(i));
    await n.idle();

    expect(contentsOf(standin)).toEqual(["message 4", "message 5"]);
    expect(n.stats().dropped).toBe(3);
    expect(logs).toEqual([
      "[push] queue full (2); dropping the oldest notifications until OneSignal catches up",
      "[push] queue drained; 3 notification(s) were dropped while it was full",
    ]);
  });

  it("sends queued pushes in order and survives a client that throws", async () => {
    let calls = 0;
    const n = createNotifier({
      client: {
        send() {
          calls++;
          throw new Error("client bug");
        },
      },
      log: (line) => logs.push(line),
    });
    notifiers.push(n);
    expect(() => n.enqueue(push(1))).not.toThrow();
    expect(() => n.enqueue(null as unknown as PushMessage)).not.toThrow();
    await n.idle();
    expect(calls).toBe(1);
    expect(logs).toEqual(["[push] new-request push failed: client bug"]);
  });

  it("not configured: a no-op that makes no request and logs exactly one line", async () => {
    const n = createNotifierFromEnv(
      { ONESIGNAL_APP_ID: standin.appId, ONESIGNAL_API_BASE_URL: standin.url },
      { log: (line) => logs.push(line) },
    );
    notifiers.push(n);
    n.enqueue(push(1));
    n.enqueue(push(2));
    await n.idle();
    await n.stop();

    expect(standin.requests).toHaveLength(0);
    expect(logs).toEqual(["[push] staff push notifications are disabled: ONESIGNAL_REST_API_KEY is not set"]);
    expect(n.stats()).toEqual({ enabled: false, queued: 0, active: 0, dropped: 0 });
  });

  it("configured from env: sends to the configured base URL with the configured key", async () => {
    const n = createNotifierFromEnv(
      {
        NEXT_PUBLIC_ONESIGNAL_APP_ID: standin.appId,
        ONESIGNAL_REST_API_KEY: standin.apiKey,
        ONESIGNAL_API_BASE_URL: `${standin.url}/`,
      },
      { log: (line) => logs.push(line) },
    );
    notifiers.push(n);
    n.enqueue(push(1));
    await n.idle();

    expect(standin.accepted).toHaveLength(1);
    expect(standin.accepted[0]?.body?.web_url).toBe("http://localhost:3000/staff?request=req-1");
    expect(logs).toEqual([]);
  });
});
