import net, { type AddressInfo } from "node:net";
import { afterEach, describe, expect, it, vi } from "vitest";
import { type Exchange, plainPoster } from "@/server/realtime/plain-post";
import { MAX_ANSWER_BYTES } from "@/server/realtime/publisher";
import { publisherOn, publishFailure } from "../support/realtime";

/**
 * plain-post.ts against a hostile server (node:net): every answer Node's HTTP client refuses is
 * refused (the same "Parse Error: …" words), nothing it reads is buffered without bound, and after
 * each attack the connection is closed (the server sees it go) and the next publish goes out on a
 * fresh connection and is answered.
 */

const OK = "HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\n{}";

type Conn = { socket: net.Socket; bytes: string; closed: Promise<void> };

/**
 * A server whose n-th connection's first complete request (head and Content-Length of body) gets
 * `scripts[n]` (its pieces written one at a time, or a function given the socket); later
 * connections (and later requests) get OK.
 */
async function hostile(scripts: (string[] | ((socket: net.Socket) => void))[]) {
  const conns: Conn[] = [];
  const server = net.createServer((socket) => {
    const n = conns.length;
    const conn: Conn = {
      socket,
      bytes: "",
      closed: new Promise((resolve) => socket.on("close", () => resolve())),
    };
    conns.push(conn);
    let answered = 0;
    socket.on("error", () => {});
    socket.on("data", (chunk) => {
      conn.bytes += chunk.toString("latin1");
      const requests = complete(conn.bytes);
      while (answered < requests) {
        const script = answered === 0 ? scripts[n] : undefined;
        answered++;
        if (typeof script === "function") script(socket);
        else
          void (async () => {
            for (const piece of script ?? [OK]) {
              if (socket.destroyed) return;
              await new Promise<void>((resolve) => socket.write(piece, () => resolve()));
              await new Promise((resolve) => setImmediate(resolve));
            }
          })();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    conns,
    close: async () => {
      for (const c of conns) c.socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** How many whole requests (head + Content-Length of body) `text` holds. */
function complete(text: string) {
  let n = 0;
  let at = 0;
  for (;;) {
    const end = text.indexOf("\r\n\r\n", at);
    if (end < 0) return n;
    const length = Number(/content-length: (\d+)/i.exec(text.slice(at, end))?.[1] ?? 0);
    if (text.length < end + 4 + length) return n;
    at = end + 4 + length;
    n++;
  }
}

/** One POST's outcome through plainPoster directly. */
function exchange() {
  const seen = {
    status: undefined as number | undefined,
    body: "",
    ended: false,
    error: undefined as Error | undefined,
  };
  let settle!: () => void;
  const settled = new Promise<typeof seen>((resolve) => {
    settle = () => resolve(seen);
  });
  const ex: Exchange = {
    head: (status) => {
      seen.status = status;
    },
    data: (chunk) => {
      seen.body += chunk.toString("latin1");
    },
    end: () => {
      seen.ended = true;
      settle();
    },
    error: (err) => {
      seen.error = err;
      settle();
    },
  };
  return { ex, settled };
}

const one = [{ channel: "lobby", name: "n", data: "{}" }];

let server: Awaited<ReturnType<typeof hostile>> | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** Posts once through a fresh poster against `script`, then once more (answered OK): both outcomes. */
async function attack(script: string[] | ((socket: net.Socket) => void), idleMs = 4000) {
  server = await hostile([script]);
  const poster = plainPoster({ host: "127.0.0.1", port: server.port, idleMs });
  const first = exchange();
  poster.post("/x", "{}", first.ex);
  const outcome = await first.settled;
  const next = exchange();
  poster.post("/x", "{}", next.ex);
  const after = await next.settled;
  return { outcome, after, conns: server.conns };
}

/** The attacked connection is gone (the server saw it close) and the next POST took a new one and was answered. */
async function recovered(r: Awaited<ReturnType<typeof attack>>) {
  expect(r.after).toMatchObject({ status: 200, body: "{}", ended: true, error: undefined });
  expect(r.conns.length).toBe(2);
  await r.conns[0]?.closed;
}

describe("plain-post against a hostile server", () => {
  it("reads answers split at every byte boundary, and keeps the connection", async () => {
    const answers = [
      "HTTP/1.1 409 Conflict\r\nTransfer-Encoding: chunked\r\n\r\n3;x=1\r\nhel\r\n2\r\nlo\r\n0\r\nx-t: 1\r\n\r\n",
      'HTTP/1.1 400 Bad\r\ncontent-length: 12\r\n\r\n{"ok":false}',
    ];
    for (const answer of answers) {
      server = await hostile([[...answer]]);
      const poster = plainPoster({ host: "127.0.0.1", port: server.port, idleMs: 4000 });
      const first = exchange();
      poster.post("/x", "{}", first.ex);
      const outcome = await first.settled;
      expect(outcome.error).toBeUndefined();
      expect(outcome.body).toBe(answer.startsWith("HTTP/1.1 409") ? "hello" : '{"ok":false}');
      const next = exchange();
      poster.post("/x", "{}", next.ex);
      expect(await next.settled).toMatchObject({ status: 200, body: "{}", ended: true });
      expect(server.conns.length).toBe(1); // reused: the answers were whole and well framed
      await server.close();
    }
  });

  const refusals: [string, string, RegExp][] = [
    [
      "a chunk size past 2^53",
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nffffffffffffffffff\r\nab",
      /Chunk size/,
    ],
    [
      "a negative chunk size",
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n-2\r\n{}\r\n0\r\n\r\n",
      /chunk size/,
    ],
    [
      "junk after a chunk size",
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2zz\r\n{}\r\n0\r\n\r\n",
      /chunk size/,
    ],
    [
      "a chunk not ended by CRLF",
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}xx\r\n0\r\n\r\n",
      /chunk end/,
    ],
    [
      "two Content-Lengths that differ",
      "HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 3\r\n\r\n{}x",
      /Content-Length/,
    ],
    [
      "two Content-Lengths alike",
      "HTTP/1.1 200 OK\r\ncontent-length: 2\r\ncontent-length: 2\r\n\r\n{}",
      /Content-Length/,
    ],
    ["a Content-Length in exponent form", "HTTP/1.1 200 OK\r\ncontent-length: 2e0\r\n\r\n{}", /Content-Length/],
    ["a signed Content-Length", "HTTP/1.1 200 OK\r\ncontent-length: +2\r\n\r\n{}", /Content-Length/],
    ["a hex Content-Length", "HTTP/1.1 200 OK\r\ncontent-length: 0x2\r\n\r\n{}", /Content-Length/],
    ["a negative Content-Length", "HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n{}", /Content-Length/],
    [
      "Content-Length beside chunked",
      "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
      /Transfer-Encoding/,
    ],
    [
      "a head over 16 KB in one piece",
      `HTTP/1.1 200 OK\r\nx: ${"a".repeat(17_000)}\r\ncontent-length: 2\r\n\r\n{}`,
      /Header overflow/,
    ],
    ["a head over 16 KB, never ended", `HTTP/1.1 200 OK\r\nx: ${"a".repeat(17_000)}`, /Header overflow/],
    ["a status line that is not one", "HTTP/2 200\r\n\r\n", /status/],
    [
      "endless trailers",
      `HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n0\r\n${"x: y\r\n".repeat(4000)}`,
      /Header overflow/,
    ],
  ];
  for (const [what, answer, error] of refusals) {
    it(`refuses ${what} (as Node's client does), closes the connection, and posts on a new one`, async () => {
      const r = await attack([answer]);
      expect(r.outcome.ended).toBe(false);
      expect(r.outcome.error?.message).toMatch(/^Parse Error: /);
      expect(r.outcome.error?.message).toMatch(error);
      await recovered(r);
    });
  }

  it("takes the first answer of a Content-Length too short, and closes on the bytes after it", async () => {
    const r = await attack(["HTTP/1.1 200 OK\r\ncontent-length: 1\r\n\r\n{}"]);
    expect(r.outcome).toMatchObject({ status: 200, body: "{", ended: true });
    await recovered(r);
  });

  it("closes on bytes after a whole chunked answer", async () => {
    const r = await attack(["HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\nHTTP/1.1 200"]);
    expect(r.outcome).toMatchObject({ status: 200, body: "{}", ended: true });
    await recovered(r);
  });

  it("fails a connection that goes silent mid-answer (a Content-Length too long) after idleMs, and never reuses it", async () => {
    const r = await attack(["HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n{}"], 50);
    expect(r.outcome.status).toBe(200);
    expect(r.outcome.error?.message).toMatch(/no bytes/);
    await recovered(r);
  });

  it("fails as a hang-up when the server closes mid-answer", async () => {
    const r = await attack((socket) => socket.end("HTTP/1.1 409 Conflict\r\ncontent-length: 10\r\n\r\n{}"));
    expect(r.outcome.status).toBe(409);
    expect((r.outcome.error as NodeJS.ErrnoException | undefined)?.code).toBe("ECONNRESET");
    await recovered(r);
  });

  it("reads interim 1xx answers and then the answer", async () => {
    server = await hostile([["HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n", OK]]);
    const poster = plainPoster({ host: "127.0.0.1", port: server.port, idleMs: 4000 });
    const first = exchange();
    poster.post("/x", "{}", first.ex);
    expect(await first.settled).toMatchObject({ status: 200, body: "{}", ended: true });
  });
});

it("takes an answer that came before its request was written, and posts the next on a new connection", async () => {
  // A server that refuses a large request at its first bytes and reads no more of it: Node's agent
  // frees a socket only once its request is written too; written behind the unread rest of the
  // first, the next would never be answered.
  const big = JSON.stringify({ batch: [{ channel: "c", name: "n", data: "x".repeat(4 << 20) }] });
  const conns: net.Socket[] = [];
  const early = net.createServer((socket) => {
    const first = conns.push(socket) === 1;
    let text = "";
    socket.on("error", () => {});
    socket.on("data", (chunk) => {
      if (first) {
        socket.pause();
        socket.write("HTTP/1.1 413 Too Large\r\ncontent-length: 2\r\n\r\n{}");
      } else {
        text += chunk.toString("latin1");
        if (complete(text) === 1) socket.write(OK);
      }
    });
  });
  await new Promise<void>((resolve) => early.listen(0, "127.0.0.1", resolve));
  try {
    const poster = plainPoster({ host: "127.0.0.1", port: (early.address() as AddressInfo).port, idleMs: 4000 });
    const first = exchange();
    poster.post("/x", big, first.ex);
    expect(await first.settled).toMatchObject({ status: 413, body: "{}", ended: true });
    const next = exchange();
    poster.post("/x", "{}", next.ex);
    expect(await next.settled).toMatchObject({ status: 200, body: "{}", ended: true });
    expect(conns.length).toBe(2);
  } finally {
    for (const socket of conns) socket.destroy();
    await new Promise((resolve) => early.close(resolve));
  }
});

describe("the publisher against a hostile server", () => {
  it("times out a server that never answers, closes that connection and publishes on a new one", async () => {
    server = await hostile([() => {}]);
    const publisher = publisherOn(server.port, 50);
    const err = await publishFailure(publisher.triggerBatch(one));
    expect(err.error?.name).toBe("AbortError");
    await server.conns[0]?.closed;
    await expect(publisher.triggerBatch(one)).resolves.toBeUndefined();
    expect(server.conns.length).toBe(2);
  });

  it("fails a flood of publishes to a server that never answers, each on its own connection, all closed", async () => {
    server = await hostile(Array.from({ length: 50 }, () => () => {}));
    const publisher = publisherOn(server.port, 50);
    const errors = await Promise.all(Array.from({ length: 50 }, () => publishFailure(publisher.triggerBatch(one))));
    expect(errors.every((err) => err.error?.name === "AbortError")).toBe(true);
    // The timeouts can fire before this process's own server has taken the connections the kernel
    // already accepted (a busy machine: the timers run before the poll), so wait for them to come.
    const { conns } = server;
    await vi.waitFor(() => expect(conns.length).toBe(50));
    await Promise.all(conns.map((c) => c.closed));
    await expect(publisher.triggerBatch(one)).resolves.toBeUndefined();
  });

  /** A server that answers with `head` and then body bytes as fast as the socket takes them, for ever. */
  const endless = (head: string) => (socket: net.Socket) => {
    const block = Buffer.alloc(64 * 1024, "x");
    socket.write(head);
    const pump = () => {
      while (!socket.destroyed && socket.write(block));
    };
    socket.on("drain", pump);
    pump();
  };

  it("refuses an endless refusal body past MAX_ANSWER_BYTES, its status and a bounded body kept", async () => {
    server = await hostile([endless("HTTP/1.1 403 Forbidden\r\ncontent-length: 1000000000000\r\n\r\n")]);
    const publisher = publisherOn(server.port, 60_000);
    const err = await publishFailure(publisher.triggerBatch(one));
    expect(err.status).toBe(403);
    expect(err.error?.message).toMatch(/larger than/);
    expect(Buffer.byteLength(err.body ?? "")).toBeLessThanOrEqual(MAX_ANSWER_BYTES);
    await server.conns[0]?.closed;
    await expect(publisher.triggerBatch(one)).resolves.toBeUndefined();
  });

  it("publishes on a 2xx head, and closes the connection of an endless body (chunked or to the close)", async () => {
    for (const head of [
      "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nfffffff\r\n",
      "HTTP/1.1 200 OK\r\n\r\n",
    ]) {
      server = await hostile([endless(head)]);
      const publisher = publisherOn(server.port, 60_000);
      await expect(publisher.triggerBatch(one)).resolves.toBeUndefined();
      await server.conns[0]?.closed;
      await expect(publisher.triggerBatch(one)).resolves.toBeUndefined();
      await server.close();
    }
  });
});
