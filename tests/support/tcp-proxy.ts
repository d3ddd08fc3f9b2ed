import net from "node:net";
import { Transform } from "node:stream";

/**
 * A TCP proxy a test can cut, restore and point elsewhere: what a load balancer in front of
 * realtime nodes does when one dies, or a network that drops Redis.
 */
export async function tcpProxy(
  targetPort: number,
  listenPort = 0,
  opts: {
    /** Hold every reply from the target this long (a server that took the request but answers late). */
    replyDelayMs?: number;
    /** Only the first this many connections get `replyDelayMs`; later ones pass at once. */
    lateConnections?: number;
    /** The first this many connections are taken and never passed on: a request lost on the way, unanswered. */
    swallowConnections?: number;
  } = {},
) {
  let target = targetPort;
  let open = true;
  const sockets = new Set<net.Socket>();
  let connections = 0;
  let roundTrips = 0;
  let cutOn: { text: string; done: () => void } | null = null;
  let holdOn: { text: string; others: "drop" | "keep"; held: (release: () => void) => void } | null = null;
  let refused = 0;
  const server = net.createServer((client) => {
    if (!open) {
      refused++;
      return void client.destroy();
    }
    const n = connections++;
    if (n < (opts.swallowConnections ?? 0)) {
      sockets.add(client);
      client.on("error", () => {});
      client.on("close", () => sockets.delete(client));
      client.resume();
      return;
    }
    const upstream = net.connect(target, "127.0.0.1");
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on("error", () => {});
      s.on("close", () => {
        sockets.delete(s);
        client.destroy();
        upstream.destroy();
      });
    }
    const replyDelayMs = n < (opts.lateConnections ?? Infinity) ? (opts.replyDelayMs ?? 0) : 0;
    // A round trip: the client writes after it last heard from the target (or for the first time).
    // A pipeline is one however many commands it carries, one command awaited after another is
    // one each.
    let replied = true;
    client.on("data", (chunk: Buffer) => {
      // Before the pipe below passes the chunk on: cut, it never arrives.
      if (cutOn && chunk.includes(cutOn.text)) {
        const { done } = cutOn;
        cutOn = null;
        proxy.cut();
        return done();
      }
      // Passed on, but the answers to it wait; everything else goes.
      if (holdOn && chunk.includes(holdOn.text) && replyDelayMs === 0) {
        const { held, others } = holdOn;
        holdOn = null;
        upstream.unpipe(client); // and paused: what the target answers waits in the stream
        if (others === "drop") {
          open = false;
          for (const s of sockets) if (s !== client && s !== upstream) s.destroy();
        }
        held(() => upstream.pipe(client));
      }
      if (replied) roundTrips++;
      replied = false;
    });
    upstream.on("data", () => {
      replied = true;
    });
    client.pipe(upstream);
    if (replyDelayMs === 0) upstream.pipe(client);
    else {
      const late = new Transform({
        transform: (chunk, _encoding, done) => void setTimeout(() => done(null, chunk), replyDelayMs),
      });
      late.on("error", () => {});
      upstream.pipe(late).pipe(client);
    }
  });
  await new Promise<void>((resolve) => server.listen(listenPort, "127.0.0.1", resolve));
  const dropAll = () => {
    for (const s of sockets) s.destroy();
  };
  const proxy = {
    port: (server.address() as net.AddressInfo).port,
    /** Round trips through the proxy so far, over all its connections (see above). */
    roundTrips: () => roundTrips,
    /** Drops every connection and refuses new ones. */
    cut() {
      open = false;
      dropAll();
    },
    restore() {
      open = true;
    },
    /**
     * Cuts (as `cut`) when a client next sends data holding `text`, before it reaches the target;
     * resolves then.
     */
    cutWhenSent(text: string) {
      return new Promise<void>((done) => {
        cutOn = { text, done };
      });
    },
    /**
     * When a client next sends data holding `text`: passes it on but holds the answers on that
     * connection and, unless `others` is "keep", drops every other connection and refuses new ones
     * (as `cut`). Resolves then, with what lets the held answers (and the later ones) through;
     * `restore` opens again.
     */
    holdRepliesWhenSent(text: string, others: "drop" | "keep" = "drop") {
      return new Promise<() => void>((held) => {
        holdOn = { text, others, held };
      });
    },
    /** Connections refused so far (made while cut). */
    refused: () => refused,
    /** New connections go to another port (the old ones are left as they are). */
    retarget(port: number) {
      target = port;
    },
    close() {
      dropAll();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  return proxy;
}
