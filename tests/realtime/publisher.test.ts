import { createSecretKey } from "node:crypto";
import http from "node:http";
import net, { type AddressInfo } from "node:net";
import Pusher from "pusher";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { signedPostQuery } from "@/server/realtime/publisher";
import {
  APP,
  connectClient,
  publisherOn,
  publishFailure,
  type Running,
  startRealtime,
  subscribed,
} from "../support/realtime";

/**
 * The app's publisher sends batches with its own HTTP client (plain-post.ts) instead of the SDK's
 * (publisher.ts): the same signed request, the bytes Node's client wrote, and failures the gateway reads as it read the SDK's (gateway.ts:
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
    const err = await publishFailure(publisherOn(rt.port).triggerBatch(batch));
    expect(err.status).toBe(400);
    expect(err.body).toMatch(/at most 10 events/);
  });

  it("fails with the network error when nothing listens, and as timed out when the server never answers", async () => {
    const silent = http.createServer(() => {}); // takes requests, never answers
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const port = (silent.address() as AddressInfo).port;
    try {
      const timedOut = await publishFailure(
        publisherOn(port, 50).triggerBatch([{ channel: "lobby", name: "n", data: "{}" }]),
      );
      expect(timedOut.status).toBeUndefined();
      expect(timedOut.error?.name).toBe("AbortError");
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
    const refused = await publishFailure(publisherOn(port).triggerBatch([{ channel: "lobby", name: "n", data: "{}" }]));
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
      // A timeout the head cannot miss on a busy machine (this process answers it too): a publish
      // that waited for the body would still fail, at it.
      await expect(publisherOn(slow.port, 5_000).triggerBatch(one)).resolves.toBeUndefined();
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
      // Long enough for the head to come first on a busy machine (this process answers it too).
      const err = await publishFailure(publisherOn(stalled.port, 1_000).triggerBatch(one));
      expect(err.status).toBe(403);
      expect(err.body).toBe("part of a body");
    } finally {
      await stalled.close();
    }
  });

  /**
   * A server that records each connection's bytes and answers the n-th request (over all
   * connections) with `answers[n]`, written in the pieces given (each a write of its own; `CLOSE`
   * ends the connection instead).
   */
  const CLOSE = "(the server closes the connection)";
  const scripted = async (answers: string[][]) => {
    const connections: string[] = [];
    const sockets = new Set<net.Socket>();
    let n = 0;
    const server = net.createServer((socket) => {
      sockets.add(socket);
      const at = connections.push("") - 1;
      socket.on("data", (bytes) => {
        connections[at] += bytes.toString("latin1");
        // One answer per complete request (a head, then its content-length of body).
        const text = connections[at] ?? "";
        const heads = text.split("\r\n\r\n").length - 1;
        const answered = (socket as net.Socket & { answered?: number }).answered ?? 0;
        if (heads > answered && text.endsWith("]}")) {
          (socket as net.Socket & { answered?: number }).answered = answered + 1;
          const pieces = answers[n++] ?? [];
          void (async () => {
            for (const piece of pieces) {
              if (piece === CLOSE) socket.end();
              else await new Promise<void>((resolve) => socket.write(piece, () => resolve()));
              await new Promise((resolve) => setImmediate(resolve));
            }
          })();
        }
      });
      socket.on("error", () => {});
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
      port: (server.address() as AddressInfo).port,
      connections,
      close: () => {
        for (const socket of sockets) socket.destroy(); // the publisher keeps its idle connection open
        return new Promise((resolve) => server.close(resolve));
      },
    };
  };

  it("writes the request Node's HTTP client with a keep-alive agent wrote for it", async () => {
    const ok = ["HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"];
    const ours = await scripted([ok]);
    const nodes = await scripted([ok]);
    vi.spyOn(Date, "now").mockReturnValue(1_795_789_995_678);
    try {
      const batch = [{ channel: "lobby", name: "n", data: '{"text":"ünïcode ✓"}' }];
      await publisherOn(ours.port).triggerBatch(batch);
      const body = JSON.stringify({ batch });
      const path = `/apps/${APP.appId}/batch_events`;
      const agent = new http.Agent({ keepAlive: true });
      await new Promise<void>((resolve, reject) => {
        const req = http.request({
          host: "127.0.0.1",
          port: nodes.port,
          method: "POST",
          path: `${path}?${signedPostQuery(APP.key, createSecretKey(Buffer.from(APP.secret)), path, body)}`,
          agent,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
        });
        req.on("error", reject);
        req.on("response", (res) => {
          res.resume();
          resolve();
        });
        req.end(body);
      });
      agent.destroy();
      expect(ours.connections[0]?.replace(`:${ours.port}`, ":PORT")).toBe(
        nodes.connections[0]?.replace(`:${nodes.port}`, ":PORT"),
      );
    } finally {
      vi.restoreAllMocks();
      await Promise.all([ours.close(), nodes.close()]);
    }
  });

  it("reads answers framed every way HTTP/1.1 frames them, and reuses the connection only when it may", async () => {
    const server = await scripted([
      // A refusal (its body is the failure's, so it is read to its end), Content-Length, in pieces
      // that split the head and the body
      ["HTTP/1.1 400 Bad Request\r\ncontent-le", 'ngth: 12\r\n\r\n{"ok":', "false}"],
      // a refusal, chunked, split inside a size line, with a chunk extension and a trailer
      [
        "HTTP/1.1 409 Conflict\r\nTransfer-Encoding: chunked\r\n\r\n",
        "3;x=1\r\nhel\r\n2\r\nlo\r\n0\r",
        "\nx-t: 1\r\n\r\n",
      ],
      // a 2xx, chunked
      ["HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n"],
      // Connection: close, after which the next publish needs a new connection
      ["HTTP/1.1 202 Accepted\r\nConnection: close\r\ncontent-length: 0\r\n\r\n"],
      // an interim 100, then the answer
      ["HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}"],
      // no length at all: the body runs to the end of the connection, which is not reused
      ["HTTP/1.1 200 OK\r\n\r\n{}", CLOSE],
      ["HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\n"],
    ]);
    try {
      const publisher = publisherOn(server.port);
      const refusedWhole = await publishFailure(publisher.triggerBatch(one));
      expect([refusedWhole.status, refusedWhole.body]).toEqual([400, '{"ok":false}']);
      const refusedChunked = await publishFailure(publisher.triggerBatch(one));
      expect([refusedChunked.status, refusedChunked.body]).toEqual([409, "hello"]);
      for (let i = 0; i < 4; i++) await expect(publisher.triggerBatch(one)).resolves.toBeUndefined();
      await expect(publisher.triggerBatch(one)).resolves.toBeUndefined();
      // 1–4 on the first connection (closed by the server's "Connection: close"), 5–6 on the
      // second (its body ran to the end of the connection), 7 on a third.
      const requests = server.connections.map((c) => c.split("POST ").length - 1);
      expect(requests).toEqual([4, 2, 1]);
    } finally {
      await server.close();
    }
  });

  it("fails as a lost connection when the server closes it before the answer is in", async () => {
    const server = await scripted([["HTTP/1.1 200 OK\r\ncontent-len", CLOSE]]);
    try {
      const err = await publishFailure(publisherOn(server.port).triggerBatch(one));
      expect(err.status).toBeUndefined();
      expect(err.error?.code).toBe("ECONNRESET");
    } finally {
      await server.close();
    }
  });
});
