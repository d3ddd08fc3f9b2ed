import { randomUUID } from "node:crypto";
import net from "node:net";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { EVENTS, STAFF_CHANNEL } from "@/protocol/channels";
import { decodeEvent, type MessageEvent } from "@/protocol/events";
import { sendAsPlayer } from "@/server/chat/actions";
import { pusherGateway } from "@/server/chat/gateway";
import { createPublisher, PUBLISH_TIMEOUT_MS } from "@/server/realtime/publisher";
import { openTestDb } from "../support/db";
import { makePlayer } from "../support/fixtures";
import { APP, connectClient, nextEvent, type Running, startRealtime, subscribed } from "../support/realtime";
import { tcpProxy } from "../support/tcp-proxy";

const SENDS = Number(process.env.OUTAGE_SENDS ?? 40);

/** A realtime "server" that accepts connections and never answers: the worst kind of down. */
async function hangingServer(port = 0) {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on("error", () => {});
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

const quantile = (samples: number[], q: number) =>
  [...samples].sort((a, b) => a - b)[Math.max(0, Math.ceil(samples.length * q) - 1)] ?? 0;

describe("sending while the realtime server is down", () => {
  let handle: DbHandle;
  let rt: Running | undefined;
  const logs: string[] = [];
  beforeAll(async () => {
    handle = await openTestDb("pglite");
  });
  afterEach(async () => {
    await rt?.close();
    rt = undefined;
  });
  afterAll(async () => {
    await handle?.close();
  });

  /** Resolves once whatever the gateway handed `server` has reached `channel`: a marker published straight to it comes after. */
  async function everythingArrived(channel: Parameters<typeof nextEvent>[0], server: Running) {
    const marker = nextEvent(channel, "marker");
    await createPublisher({ ...APP, host: "127.0.0.1", port: server.port, useTLS: false }).trigger(
      STAFF_CHANNEL,
      "marker",
      {},
    );
    await marker;
  }

  /**
   * SENDS sends through a gateway on `port`, counting the publish requests made while they ran.
   * The durations are printed, not asserted: what a send waits for is what the count shows.
   */
  async function timeSends(port: number, opts: { retryBaseMs: number }) {
    const publisher = createPublisher({ ...APP, host: "127.0.0.1", port, useTLS: false });
    let requests = 0;
    const triggerBatch = publisher.triggerBatch.bind(publisher);
    publisher.triggerBatch = (batch) => {
      requests++;
      return triggerBatch(batch);
    };
    // Its own log: a gateway of an earlier test may still log (its request cut off by that test's close).
    const log: string[] = [];
    const realtime = pusherGateway(publisher, { log: (m) => log.push(m), retryBaseMs: opts.retryBaseMs });
    const { player } = await makePlayer(handle.db);
    const times: number[] = [];
    const ids: string[] = [];
    for (let i = 0; i < SENDS; i++) {
      const id = randomUUID();
      ids.push(id);
      const started = performance.now();
      await sendAsPlayer({ db: handle.db, realtime }, { id, text: `while down ${i}`, player });
      times.push(performance.now() - started);
    }
    const [p50, p99] = [quantile(times, 0.5), quantile(times, 0.99)];
    return {
      ids,
      realtime,
      log,
      requests,
      summary: `send p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms (${SENDS} sends)`,
    };
  }

  it(`makes one publish request to a server that hangs, whatever the sends (${SENDS} sends)`, async () => {
    const hanging = await hangingServer();
    try {
      // No background retry within the test: every request counted was made by a send itself.
      const { requests, summary } = await timeSends(hanging.port, { retryBaseMs: 10 * 60_000 });
      console.log(`[publish-outage] hanging realtime: ${summary}`);
      // No send waits for the publish (gateway.ts): the first send's request stays on the wire, the
      // rest wait behind it and, once it times out unanswered, go to the background retry (before
      // the retries existed, each send waited out its own timeout: 5 s apiece).
      expect(requests).toBe(1);
    } finally {
      await hanging.close();
    }
  });

  it("sends on when the server is gone, and delivers the events once it is back", async () => {
    // Find a free port, then leave it closed: connections are refused, as after a crash.
    const probe = await hangingServer();
    const port = probe.port;
    await probe.close();
    const { ids, realtime, log, summary } = await timeSends(port, { retryBaseMs: 100 });
    console.log(`[publish-outage] refused realtime: ${summary}`);

    // The server comes back on the same port; the background retry hands it what was held.
    rt = await startRealtime({ port });
    await realtime.idle();
    const metrics = await (await fetch(`${rt.url}/metrics`)).text();
    const accepted = Number(/realtime_http_requests_total (\d+)/.exec(metrics)?.[1]);
    // Held batches are packed up to Pusher's 10 events per request, and each send made at least
    // two events (one on the staff channel, one on the player's): every one was handed over.
    expect(accepted).toBeGreaterThanOrEqual(Math.ceil((2 * ids.length) / 10));
    expect(metrics).toContain("realtime_http_errors_total 0");
    // The log line says why, not "HTTP undefined". Refused, as a rule; on a loaded machine the
    // first publish's 500 ms timer can fire before the refusal is read (PGlite's queries run on
    // this thread), and then it is logged as unanswered, timed out.
    expect(log.find((l) => /publish (failed|unanswered)/.test(l))).toMatch(/ECONNREFUSED|timed out/);
    expect(log.some((l) => /gave up/.test(l))).toBe(false);
  });

  it("sends a held batch once when a new send is held while the background retry is on the wire", async () => {
    // Nothing listens on the port yet: the first send's publish is refused and held for retry.
    const probe = await hangingServer();
    const port = probe.port;
    await probe.close();
    const publisher = createPublisher({ ...APP, host: "127.0.0.1", port, useTLS: false, timeoutMs: 30_000 });
    const realtime = pusherGateway(publisher, { log: (m) => logs.push(m), retryBaseMs: 50, retryAttempts: 30 });
    const { player } = await makePlayer(handle.db);
    const first = randomUUID();
    await sendAsPlayer({ db: handle.db, realtime }, { id: first, text: "held, then retried", player });

    rt = await startRealtime();
    const staff = connectClient(rt);
    // The server comes up behind a proxy that holds its answers 3 s: the retry stays on the wire.
    let proxy: Awaited<ReturnType<typeof tcpProxy>> | undefined;
    try {
      const channel = await subscribed(staff, STAFF_CHANNEL);
      const seen: string[] = [];
      channel.bind(EVENTS.chatMessageReceived, (raw: unknown) => seen.push(decodeEvent<MessageEvent>(raw).message.id));
      proxy = await tcpProxy(rt.port, port, { replyDelayMs: 3000 });
      await expect.poll(() => seen, { timeout: 30_000 }).toEqual([first]);

      // The retry was delivered and its answer is still held: this send queues behind it.
      const second = randomUUID();
      await sendAsPlayer({ db: handle.db, realtime }, { id: second, text: "sent during the retry", player });
      await realtime.idle();

      await everythingArrived(channel, rt);
      expect(seen).toEqual([first, second]);
    } finally {
      staff.disconnect();
      await proxy?.close();
    }
  });

  /** One send through `proxy` to `rt`; what the staff socket saw once the gateway is idle. */
  async function sendThrough(proxy: { port: number }, server: Running, retry = { retryBaseMs: 50, retryAttempts: 6 }) {
    const staff = connectClient(server);
    try {
      const channel = await subscribed(staff, STAFF_CHANNEL);
      const seen: string[] = [];
      channel.bind(EVENTS.chatMessageReceived, (raw: unknown) => seen.push(decodeEvent<MessageEvent>(raw).message.id));
      const publisher = createPublisher({ ...APP, host: "127.0.0.1", port: proxy.port, useTLS: false });
      const realtime = pusherGateway(publisher, { log: (m) => logs.push(m), ...retry });
      const { player } = await makePlayer(handle.db);
      const id = randomUUID();
      await sendAsPlayer({ db: handle.db, realtime }, { id, text: "unanswered once", player });
      await realtime.idle();
      await everythingArrived(channel, server);
      return { id, seen };
    } finally {
      staff.disconnect();
    }
  }

  it("never hands an event to sockets twice when the server took the publish but answered after the timeout", async () => {
    rt = await startRealtime();
    // Between the app and the server: requests pass at once, answers come back after the timeout.
    const proxy = await tcpProxy(rt.port, 0, { replyDelayMs: PUBLISH_TIMEOUT_MS + 300 });
    try {
      // Every attempt is taken and answered late: the retries reach the server and are dropped there.
      const { id, seen } = await sendThrough(proxy, rt, { retryBaseMs: 100, retryAttempts: 2 });
      expect(seen).toEqual([id]);
    } finally {
      await proxy.close();
    }
  });

  it("delivers a publish that went unanswered because it never reached the server (issue 11)", async () => {
    rt = await startRealtime();
    // The first connection takes the request and passes nothing on: lost on the way, no answer.
    const proxy = await tcpProxy(rt.port, 0, { swallowConnections: 1 });
    try {
      const { id, seen } = await sendThrough(proxy, rt);
      expect(seen).toEqual([id]);
    } finally {
      await proxy.close();
    }
  });

  it("delivers once when the server took a publish, answered it too late, and took its retry", async () => {
    rt = await startRealtime();
    // Only the first answer is late: the retry reaches the server and is answered at once.
    const proxy = await tcpProxy(rt.port, 0, { replyDelayMs: PUBLISH_TIMEOUT_MS + 300, lateConnections: 1 });
    try {
      const { id, seen } = await sendThrough(proxy, rt);
      expect(seen).toEqual([id]);
    } finally {
      await proxy.close();
    }
  });
});
