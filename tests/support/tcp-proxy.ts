import net from "node:net";

/**
 * A TCP proxy a test can cut, restore and point elsewhere: what a load balancer in front of
 * realtime nodes does when one dies, or a network that drops Redis.
 */
export async function tcpProxy(targetPort: number, listenPort = 0) {
  let target = targetPort;
  let open = true;
  let replyDelayMs = 0;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (!open) return void client.destroy();
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
    client.pipe(upstream);
    // Replies pass through at once, or late (a server that took the request but answers slowly).
    upstream.on("data", (chunk) => {
      if (replyDelayMs === 0) client.write(chunk);
      else setTimeout(() => client.writable && client.write(chunk), replyDelayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(listenPort, "127.0.0.1", resolve));
  const dropAll = () => {
    for (const s of sockets) s.destroy();
  };
  return {
    port: (server.address() as net.AddressInfo).port,
    /** Drops every connection and refuses new ones. */
    cut() {
      open = false;
      dropAll();
    },
    restore() {
      open = true;
    },
    /** Holds every reply from the target this long before passing it on (0 = none). */
    delayReplies(ms: number) {
      replyDelayMs = ms;
    },
    /** New connections go to another port (the old ones are left as they are). */
    retarget(port: number) {
      target = port;
    },
    close() {
      dropAll();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
