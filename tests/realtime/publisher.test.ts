import { createSecretKey } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import Pusher from "pusher";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createPublisher, signedPostQuery } from "@/server/realtime/publisher";
import { APP, connectClient, type Running, startRealtime, subscribed } from "../support/realtime";

/**
 * The app's publisher sends batches with Node's HTTP client instead of the SDK's (publisher.ts):
 * the same signed request, and failures the gateway reads as it read the SDK's (gateway.ts:
 * `status` for an answer, the network error's `code`, `AbortError` for a timeout).
 */
describe("the publisher's batch publish", () => {
  let rt: Running;
  beforeAll(async () => {
    rt = await startRealtime();
  });
  afterAll(async () => {
    await rt?.close();
  });
  const publisherOn = (port: number, timeoutMs?: number) =>
    createPublisher({ ...APP, host: "127.0.0.1", port, useTLS: false, timeoutMs });
  const failure = async (attempt: Promise<unknown>) => {
    const err = await attempt.then(
      () => null,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(Pusher.RequestError);
    return err as Pusher.RequestError & { error?: NodeJS.ErrnoException };
  };

  it("is signed as the SDK signs it, and hands out string and object data in batch order", async () => {
    const client = connectClient(rt);
    try {
      const channel = await subscribed(client, "lobby");
      const seen: unknown[] = [];
      const all = new Promise<void>((resolve) =>
        channel.bind("n", (d: unknown) => {
          seen.push(d);
          if (seen.length === 3) resolve();
        }),
      );
      const publisher = publisherOn(rt.port);
      await publisher.triggerBatch([
        { channel: "lobby", name: "n", data: JSON.stringify({ i: 0 }) },
        { channel: "lobby", name: "n", data: { i: 1 } },
        { channel: "lobby", name: "n", data: '{"i":2,"text":"ünïcode ✓"}' },
      ]);
      await all;
      expect(seen).toEqual([{ i: 0 }, { i: 1 }, { i: 2, text: "ünïcode ✓" }]);
    } finally {
      client.disconnect();
    }
  });

  it("signs a body exactly as the SDK's createSignedQueryString does", () => {
    const sdk = new Pusher({ ...APP, host: "127.0.0.1", port: "1", useTLS: false });
    const path = `/apps/${APP.appId}/batch_events`;
    const now = 1_795_789_995_678;
    vi.spyOn(Date, "now").mockReturnValue(now);
    try {
      for (const body of [
        '{"batch":[]}',
        JSON.stringify({ batch: [{ channel: "c", name: "n", data: "ünïcode ✓ 🎲" }] }),
      ]) {
        const theirs = sdk.createSignedQueryString({ method: "POST", path, body });
        expect(signedPostQuery(APP.key, createSecretKey(Buffer.from(APP.secret)), path, body, now)).toBe(theirs);
      }
    } finally {
      vi.restoreAllMocks();
    }
  });

  it("fails with the answer's status and body when the server refuses the batch", async () => {
    const batch = Array.from({ length: 11 }, (_, i) => ({ channel: "lobby", name: "n", data: { i } }));
    const err = await failure(publisherOn(rt.port).triggerBatch(batch));
    expect(err.status).toBe(400);
    expect(err.body).toMatch(/at most 10 events/);
  });

  it("fails with the network error when nothing listens, and as timed out when the server never answers", async () => {
    const silent = http.createServer(() => {}); // takes requests, never answers
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const timedOut = await failure(publisherOn(port, 50).triggerBatch([{ channel: "lobby", name: "n", data: "{}" }]));
      expect(timedOut.status).toBeUndefined();
      expect(timedOut.error?.name).toBe("AbortError");
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
    const refused = await failure(publisherOn(port).triggerBatch([{ channel: "lobby", name: "n", data: "{}" }]));
    expect(refused.status).toBeUndefined();
    expect(refused.error?.code).toBe("ECONNREFUSED");
  });

  /** A server that sends an answer's head and part of its body, then (once written) what `rest` does. */
  const answering = async (status: number, rest: (res: http.ServerResponse) => void) => {
    const server = http.createServer((req, res) => {
      req.resume();
      req.on("end", () => {
        res.writeHead(status, { "content-length": "100" });
        res.write("part of a body", () => rest(res));
      });
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const close = async () => {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    };
    return { port: (server.address() as AddressInfo).port, close };
  };
  const one = [{ channel: "lobby", name: "n", data: "{}" }];

  it("is published once a 2xx answer's head is in, as with the SDK, though its body is slow or dies", async () => {
    // Answered is taken: failing it now would publish it again (twice, on hosted Pusher).
    const slow = await answering(200, () => {});
    try {
      await expect(publisherOn(slow.port, 50).triggerBatch(one)).resolves.toBeUndefined();
    } finally {
      await slow.close();
    }
    const dies = await answering(200, (res) => res.socket?.destroy());
    try {
      await expect(publisherOn(dies.port).triggerBatch(one)).resolves.toBeUndefined();
    } finally {
      await dies.close();
    }
  });

  it("fails with the answer's status once its head is in, though the body of the refusal never ends", async () => {
    // The SDK waited for such a body without end; a timeout without the status would be sent again.
    const stalled = await answering(403, () => {});
    try {
      const err = await failure(publisherOn(stalled.port, 50).triggerBatch(one));
      expect(err.status).toBe(403);
      expect(err.body).toBe("part of a body");
    } finally {
      await stalled.close();
    }
  });
});
