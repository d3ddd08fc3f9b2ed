import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { APP, rawConnected, signChannel, signedFetch } from "../support/realtime";
import { expectStillServing, type RealtimeProcess, rawExchange, realtimeProcessPerFile } from "./process";

// Hundreds of runs, each on a real connection: on a machine busy with other work they take several
// times the suite's 20 s, and a timeout there would say nothing about the server.
const FUZZ_TIMEOUT_MS = 120_000;

/**
 * Property-based fuzzing of everything a client controls, against the server in its own
 * process. Each property has a fixed number of runs (fast-check prints the seed of a failure,
 * so it can be replayed). After each, the process must still serve and must never have hit an
 * error in its own handling.
 */

const server = realtimeProcessPerFile({ REALTIME_MAX_FRAME_BYTES: "65536" });

async function expectUnharmed(rt: RealtimeProcess) {
  await expectStillServing(rt);
  const metrics = await (await fetch(`${rt.url}/metrics`)).text();
  expect(metrics).toMatch(/^realtime_internal_errors_total 0$/m);
}

// --- values a hostile client might put anywhere -------------------------------------------

const huge = fc.integer({ min: 1_000, max: 100_000 }).map((n) => "z".repeat(n));
const deepJson = fc.integer({ min: 100, max: 30_000 }).map((n) => `${"[".repeat(n)}${"]".repeat(n)}`);
const deepObjectJson = fc.integer({ min: 100, max: 10_000 }).map((n) => `${'{"a":'.repeat(n)}1${"}".repeat(n)}`);
const channelName = fc.oneof(
  fc.constantFrom(
    "lobby",
    "private-fuzz",
    "presence-fuzz",
    "cache-fuzz",
    "private-encrypted-fuzz",
    "#server-to-user-1",
  ),
  fc.string({ maxLength: 300 }),
  huge,
);
const anyValue = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 200 }) },
  { weight: 1, arbitrary: huge },
  { weight: 1, arbitrary: deepJson },
  { weight: 1, arbitrary: deepObjectJson },
  { weight: 1, arbitrary: fc.constantFrom(null, true, 0, -1, 1e308, [], {}) },
);

// --- WebSocket frames -----------------------------------------------------------------------

const eventName = fc.oneof(
  fc.constantFrom(
    "pusher:subscribe",
    "pusher:unsubscribe",
    "pusher:signin",
    "pusher:ping",
    "pusher:pong",
    "client-typing",
    "pusher_internal:member_added",
  ),
  fc.string({ maxLength: 50 }),
  anyValue,
);
const payload = fc.oneof(
  anyValue,
  fc.record(
    {
      channel: fc.oneof(channelName, anyValue),
      auth: fc.oneof(fc.constant(`${APP.key}:${"0".repeat(64)}`), anyValue),
      channel_data: fc.oneof(fc.constant('{"user_id":"u"}'), anyValue),
      user_data: fc.oneof(fc.constant('{"id":"u"}'), anyValue),
    },
    { requiredKeys: [] },
  ),
);
const message = fc
  .record({ event: eventName, channel: fc.oneof(channelName, anyValue), data: payload }, { requiredKeys: [] })
  .chain((m) =>
    fc.boolean().map((asString) => (asString && m.data !== undefined ? { ...m, data: JSON.stringify(m.data) } : m)),
  )
  .map((m) => JSON.stringify(m));

type Frame = { bytes: string | Uint8Array; binary: boolean };
const frame: fc.Arbitrary<Frame> = fc.oneof(
  { weight: 4, arbitrary: message.map((text) => ({ bytes: text, binary: false })) },
  // Truncated JSON.
  {
    weight: 2,
    arbitrary: message.chain((t) => fc.nat(t.length).map((n) => ({ bytes: t.slice(0, n), binary: false }))),
  },
  { weight: 1, arbitrary: deepJson.map((text) => ({ bytes: text, binary: false })) },
  { weight: 1, arbitrary: huge.map((z) => ({ bytes: `{"event":"pusher:ping","data":"${z}"}`, binary: false })) },
  // Random bytes, as text frames (often invalid UTF-8) and as binary frames.
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 500 }).map((bytes) => ({ bytes, binary: false })) },
  { weight: 1, arbitrary: fc.uint8Array({ maxLength: 500 }).map((bytes) => ({ bytes, binary: true })) },
);

describe("WebSocket frames", () => {
  it("answers any sequence of frames by the protocol and keeps serving", { timeout: FUZZ_TIMEOUT_MS }, async () => {
    const rt = server();
    await fc.assert(
      fc.asyncProperty(fc.array(frame, { minLength: 1, maxLength: 4 }), fc.boolean(), async (frames, joinFirst) => {
        const raw = await rawConnected(rt);
        if (joinFirst) {
          // Also reach the paths behind a valid private subscription (client events).
          raw.send("pusher:subscribe", { channel: "private-fuzz", auth: signChannel(raw.socketId, "private-fuzz") });
          await raw.next((f) => f.event === "pusher_internal:subscription_succeeded");
        }
        for (const f of frames) raw.ws.send(f.bytes, { binary: f.binary });
        raw.send("pusher:ping", {});
        const outcome = await Promise.race([raw.next((f) => f.event === "pusher:pong").then(() => null), raw.closed]);
        if (outcome) {
          // Closed: with a Pusher code, or as RFC 6455 says for a text frame that is not UTF-8
          // (1007) or a message past the hard frame limit (1009).
          const { code } = outcome;
          expect(code === 1007 || code === 1009 || (code >= 4000 && code < 5000), `close code ${code}`).toBe(true);
          expect(Buffer.byteLength(outcome.reason)).toBeLessThanOrEqual(123);
        }
        for (const f of raw.frames) {
          expect(typeof f.event).toBe("string");
          if (f.event === "pusher:error") expect((f.data as { message: string }).message.length).toBeLessThan(200);
        }
        raw.ws.terminate();
      }),
      { numRuns: 300 },
    );
    await expectUnharmed(rt);
  });
});

// --- HTTP API requests ----------------------------------------------------------------------

const apiPath = fc.oneof(
  fc.constantFrom(
    "/events",
    "/batch_events",
    "/channels",
    "/channels/lobby",
    "/channels/presence-fuzz/users",
    "/users/u/terminate_connections",
    "/channels/%E0%A4%A",
    "/users/%/terminate_connections",
    "/channels/presence-%ZZ/users",
  ),
  fc.string({ maxLength: 40 }).map((s) => `/${encodeURIComponent(s)}`),
);
const eventBody = fc.record(
  {
    name: fc.oneof(fc.constant("news"), anyValue),
    data: fc.oneof(fc.constant("{}"), anyValue),
    channel: fc.oneof(channelName, anyValue),
    channels: fc.oneof(fc.array(channelName, { maxLength: 120 }), anyValue),
    socket_id: fc.oneof(fc.constant("1.2"), anyValue),
    info: fc.oneof(fc.constantFrom("subscription_count", "user_count,subscription_count"), anyValue),
  },
  { requiredKeys: [] },
);
const body = fc.oneof(
  eventBody.map((b) => JSON.stringify(b)),
  fc.array(eventBody, { maxLength: 12 }).map((batch) => JSON.stringify({ batch })),
  eventBody.map((b) => JSON.stringify(b)).chain((t) => fc.nat(t.length).map((n) => t.slice(0, n))),
  deepJson,
  deepObjectJson,
  fc.string({ maxLength: 500 }),
  fc.integer({ min: 1024 * 1024 - 10, max: 1024 * 1024 + 10 }).map((n) => "b".repeat(n)),
);
const query = fc.dictionary(
  fc.constantFrom("info", "filter_by_prefix", "auth_key", "auth_version", "auth_timestamp", "x"),
  fc.string({ maxLength: 50 }),
  { maxKeys: 3 },
);
/** How the request is signed: right, or wrong in one of the ways an attacker might try. */
const signing = fc.oneof(
  fc.constant({}),
  fc.constant({ secret: "wrong-secret" }),
  fc.constant({ appId: "other-app" }),
  fc.integer({ min: 601, max: 10 ** 9 }).map((skew) => ({ timestamp: Math.floor(Date.now() / 1000) - skew })),
  fc.constant({ md5Of: "not the body" }),
);

describe("HTTP API requests", () => {
  it("answers any request with 2xx or a 4xx JSON error, never 5xx", { timeout: FUZZ_TIMEOUT_MS }, async () => {
    const rt = server();
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom("GET", "POST") as fc.Arbitrary<"GET" | "POST">,
        apiPath,
        fc.option(body, { nil: undefined }),
        query,
        signing,
        async (method, path, requestBody, extraQuery, sign) => {
          const res = await signedFetch(rt, method, path, {
            body: method === "POST" ? requestBody : undefined,
            query: extraQuery,
            ...sign,
          });
          expect([200, 400, 401, 404, 413]).toContain(res.status);
          const answer = (await res.json()) as { error?: unknown };
          if (res.status !== 200) expect(typeof answer.error).toBe("string");
        },
      ),
      { numRuns: 300 },
    );
    await expectUnharmed(rt);
  });

  it("answers raw request bytes and upgrades with 101, a 4xx or by closing, and keeps serving", {
    timeout: FUZZ_TIMEOUT_MS,
  }, async () => {
    const rt = server();
    const target = fc.oneof(
      fc.string({ maxLength: 80 }),
      fc.constantFrom("//:99999", "//[::1", "http://%", "/app/%", `/app/${APP.key}?protocol=%`),
      fc
        .tuple(fc.string({ maxLength: 400 }), fc.string({ maxLength: 400 }))
        .map(([key, protocol]) => `/app/${encodeURIComponent(key)}?protocol=${encodeURIComponent(protocol)}`),
    );
    const upgrade =
      "Connection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\n" +
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
    const requestLine = fc
      .tuple(fc.constantFrom("GET", "POST", "FOO", ""), target, fc.constantFrom("HTTP/1.1", "HTTP/9", ""), fc.boolean())
      .map(([m, t, v, ws]) => `${m} ${t} ${v}\r\nHost: x\r\n${ws ? upgrade : ""}\r\n`);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          requestLine,
          fc.uint8Array({ minLength: 1, maxLength: 300 }).map((b) => Buffer.from(b)),
        ),
        async (bytes) => {
          const answer = await rawExchange(rt.port, bytes, 500);
          // 101 for an upgrade (refusals then come as pusher:error + a close code), else 4xx.
          if (answer) expect(answer).toMatch(/^HTTP\/1\.1 (101|4\d\d) /);
        },
      ),
      { numRuns: 200 },
    );
    await expectUnharmed(rt);
  });
});
