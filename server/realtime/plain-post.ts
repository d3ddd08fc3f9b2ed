import net from "node:net";

/** What happens to one POST: its answer's head, then its body (in pieces) and end, or an error. */
export type Exchange = {
  head(status: number): void;
  data(chunk: Buffer): void;
  end(): void;
  error(err: Error): void;
};

export type PlainPoster = {
  /** Writes the POST at once (on an idle pooled connection, or a new one). Returns a way to abort it. */
  post(target: string, body: string, exchange: Exchange): { destroy(err: Error): void };
};

const CRLF_CRLF = Buffer.from("\r\n\r\n");
const CRLF = Buffer.from("\r\n");
/** An answer's head larger than this is not one (Node's own limit is 16 KB). */
const MAX_HEAD = 16 * 1024;

/**
 * The publish's HTTP/1.1 POST to a plain-HTTP server (ours, Soketi, or Pusher without TLS), on
 * keep-alive connections of its own, one exchange on a connection at a time, the most recently used
 * idle one first (as Node's agent). Writes the bytes Node's `http.request` with a keep-alive agent
 * wrote for it (tests/realtime/publisher.test.ts compares them) and reads the answers Node's parser
 * read: `Content-Length`, chunked, or to the end of the connection; `Connection: close` and HTTP/1.0
 * answers are not reused; what Node's parser refuses is refused with its words (tests/realtime/
 * plain-post-attacks.test.ts). An idle connection is closed after `idleMs` (before the server
 * closes it: publisher.ts, IDLE_SOCKET_MS), and so is one whose answer stalls that long.
 *
 * Why not Node's client: for one publish it builds a `ClientRequest`, its agent's bookkeeping, a
 * parser and an `IncomingMessage` with their streams and events, and for a lone send (the latency
 * scenario's one a second per player) that cost the web process about as much as the rest of the
 * send's HTTP work (bench/README.md, "The publish's own HTTP client").
 */
export function plainPoster(opts: { host: string; port: number; idleMs: number }): PlainPoster {
  const hostHeader = `${opts.host.includes(":") ? `[${opts.host}]` : opts.host}${opts.port === 80 ? "" : `:${opts.port}`}`;
  const idle: Connection[] = [];

  const release = (conn: Connection) => {
    idle.push(conn);
  };
  const forget = (conn: Connection) => {
    const at = idle.indexOf(conn);
    if (at >= 0) idle.splice(at, 1);
  };

  const connect = () => {
    const socket = net.connect({
      host: opts.host,
      port: opts.port,
      noDelay: true,
      keepAlive: true,
      keepAliveInitialDelay: 1000,
    });
    return new Connection(socket, release, forget);
  };

  return {
    post(target, body, exchange) {
      const conn = idle.pop() ?? connect();
      // Idle or busy, a connection silent this long is closed: a server that stalls mid-answer
      // (after a 2xx head the publish's own timeout is over) must not hold it for ever.
      conn.socket.setTimeout(opts.idleMs);
      conn.start(exchange);
      conn.socket.write(
        `POST ${target} HTTP/1.1\r\ncontent-type: application/json\r\ncontent-length: ${Buffer.byteLength(body)}\r\nHost: ${hostHeader}\r\nConnection: keep-alive\r\n\r\n${body}`,
      );
      return { destroy: (err) => conn.fail(err) };
    },
  };
}

/** Where the reader is in the current answer. */
type Phase =
  | { at: "head" }
  | { at: "length"; left: number }
  | { at: "chunk-size" }
  | { at: "chunk"; left: number }
  | { at: "chunk-end" }
  | { at: "trailer"; seen: number }
  | { at: "until-close" };

class Connection {
  private exchange: Exchange | null = null;
  private phase: Phase = { at: "head" };
  private pending: Buffer | null = null;
  private reusable = true;

  constructor(
    readonly socket: net.Socket,
    private readonly release: (conn: Connection) => void,
    private readonly forget: (conn: Connection) => void,
  ) {
    socket.on("data", (chunk: Buffer) => this.read(chunk));
    socket.on("end", () => {
      if (this.phase.at === "until-close" && this.exchange) return this.done();
      this.hangUp();
    });
    socket.on("error", (err) => this.fail(err));
    socket.on("close", () => this.hangUp());
    socket.on("timeout", () => {
      // Idle: closed before the server closes it. Busy: the server stalled mid-answer.
      if (this.exchange) this.fail(new Error(`no bytes from the server for ${socket.timeout} ms`));
      else this.close();
    });
  }

  start(exchange: Exchange) {
    this.exchange = exchange;
    this.phase = { at: "head" };
  }

  /** The exchange fails with `err` (once), and the connection is closed: its state is unknown. */
  fail(err: Error) {
    const exchange = this.exchange;
    this.exchange = null;
    this.close();
    exchange?.error(err);
  }

  private close() {
    this.forget(this);
    this.socket.destroy();
  }

  /** The server closed the connection: an exchange still under way fails as Node's client fails it. */
  private hangUp() {
    if (!this.exchange) return this.close();
    const err = Object.assign(new Error("socket hang up"), { code: "ECONNRESET" });
    this.fail(err);
  }

  private read(chunk: Buffer) {
    if (!this.exchange) return this.close(); // bytes nobody asked for: the connection is not in a known state
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = null;
    while (this.exchange) {
      const phase = this.phase;
      if (phase.at === "length" || phase.at === "chunk") {
        if (!buf.length) break;
        const piece = buf.subarray(0, phase.left);
        buf = buf.subarray(piece.length);
        phase.left -= piece.length;
        this.exchange.data(piece);
        if (phase.left > 0) break;
        if (phase.at === "length") this.done();
        else this.phase = { at: "chunk-end" };
        continue;
      }
      if (phase.at === "until-close") {
        if (buf.length) this.exchange.data(buf);
        buf = buf.subarray(buf.length);
        break;
      }
      // The head, up to its blank line; or a line: a chunk's size, a chunk's end, a trailer.
      const until = phase.at === "head" ? CRLF_CRLF : CRLF;
      const end = buf.indexOf(until);
      // A head (or a trailer, counted together) past Node's limit is refused as Node refuses it.
      const seen = (phase.at === "trailer" ? phase.seen : 0) + (end < 0 ? buf.length : end);
      if (seen > MAX_HEAD) return this.fail(new Error("Parse Error: Header overflow"));
      if (end < 0) break;
      const line = buf.toString("latin1", 0, end);
      buf = buf.subarray(end + until.length);
      if (phase.at === "head") {
        if (!this.answerHead(line)) return;
      } else if (phase.at === "chunk-end") {
        if (line !== "") return this.fail(new Error("Parse Error: Invalid chunk end"));
        this.phase = { at: "chunk-size" };
      } else if (phase.at === "chunk-size") {
        // Hex digits, then nothing or an extension after ";" (what Node's parser takes).
        const size = /^([0-9a-fA-F]+)(?:;.*)?$/.exec(line)?.[1];
        if (size === undefined) return this.fail(new Error("Parse Error: Invalid character in chunk size"));
        const left = Number.parseInt(size, 16);
        if (!Number.isSafeInteger(left)) return this.fail(new Error("Parse Error: Chunk size overflow"));
        this.phase = left === 0 ? { at: "trailer", seen: 0 } : { at: "chunk", left };
      } else if (line === "") this.done();
      else if (phase.at === "trailer") phase.seen += end + until.length;
    }
    if (buf.length) {
      // What is left after an answer ended was never asked for; otherwise the rest of a head or line.
      if (!this.exchange) return this.close();
      this.pending = Buffer.from(buf);
    }
  }

  /** The answer's head read: tells the exchange, and sets how its body ends. False when the connection failed. */
  private answerHead(head: string) {
    const exchange = this.exchange;
    if (!exchange) return false;
    const statusLine = /^HTTP\/1\.([01]) (\d{3})(?: |$)/.exec(head);
    if (!statusLine) return this.refuse("Parse Error: Invalid response status");
    const status = Number(statusLine[2]);
    if (status >= 100 && status < 200) return true; // an interim answer (100 Continue): the real one follows
    let length: string | undefined;
    let chunked = false;
    let connection = "";
    for (const line of head.split("\r\n").slice(1)) {
      const colon = line.indexOf(":");
      if (colon <= 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === "content-length") {
        // Two (even alike) are refused as Node refuses them: which one frames the body is unknown.
        if (length !== undefined) return this.refuse("Parse Error: Duplicate Content-Length");
        length = value;
      } else if (name === "transfer-encoding") chunked = /(^|,)\s*chunked\s*$/i.test(value);
      else if (name === "connection") connection = value.toLowerCase();
    }
    const http10 = statusLine[1] === "0";
    this.reusable = http10 ? connection.includes("keep-alive") : !connection.includes("close");
    if (chunked && length !== undefined)
      return this.refuse("Parse Error: Transfer-Encoding can't be present with Content-Length");
    if (status === 204 || status === 304) this.phase = { at: "length", left: 0 };
    else if (chunked) this.phase = { at: "chunk-size" };
    else if (length !== undefined) {
      // Digits only: Number() would also take "2e0", "+2" and "0x2", which Node refuses.
      const left = /^\d+$/.test(length) ? Number(length) : Number.NaN;
      if (!Number.isSafeInteger(left)) return this.refuse("Parse Error: Invalid character in Content-Length");
      this.phase = { at: "length", left };
    } else {
      this.phase = { at: "until-close" };
      this.reusable = false;
    }
    exchange.head(status);
    if (this.exchange !== exchange) return false; // the head failed it (nothing does today)
    if (this.phase.at === "length" && this.phase.left === 0) this.done();
    return true;
  }

  /** Fails the exchange with a parse error of its head (answerHead's false). */
  private refuse(message: string) {
    this.fail(new Error(message));
    return false;
  }

  /** The answer is complete: the exchange ends, and the connection goes back to the pool if it may. */
  private done() {
    const exchange = this.exchange;
    this.exchange = null;
    this.phase = { at: "head" };
    // An answer that came before its request was all written (a server refusing it early) leaves
    // the connection in no known state: Node's agent does not free such a socket either.
    if (this.reusable && !this.socket.destroyed && this.socket.writableLength === 0) this.release(this);
    else this.close();
    exchange?.end();
  }
}
