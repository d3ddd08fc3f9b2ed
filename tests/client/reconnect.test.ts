import net from "node:net";
import Pusher from "pusher-js";
import { afterEach, describe, expect, it, vi } from "vitest";
import { keepReconnecting } from "@/app/_realtime/reconnect";

/** Stands in for the browser's WebSocket: records each probe and never connects. */
class ProbeSocket {
  static made: ProbeSocket[] = [];
  onmessage: ((event: { data: string }) => void) | null = null;
  onerror: (() => void) | null = null;
  onclose: (() => void) | null = null;
  constructor(readonly url: string) {
    ProbeSocket.made.push(this);
  }
  close() {}
}

/** A port nothing listens on: pusher-js's own attempts there are refused. */
async function closedPort() {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

let cleanUp: (() => void) | undefined;

/**
 * A pusher-js client as the provider makes it, aimed at a port nothing listens on, with
 * keepReconnecting on it; fake timers, and checks made with ProbeSocket. pusher-js starts
 * connecting in its constructor, so its first state change has happened before anything can
 * listen for it, as on a page opened during an outage.
 */
async function checkedClient() {
  vi.useFakeTimers();
  vi.stubGlobal("WebSocket", ProbeSocket);
  const port = await closedPort();
  const client = new Pusher("floorline-key", {
    cluster: "mt1",
    wsHost: "127.0.0.1",
    wsPort: port,
    wssPort: port,
    forceTLS: false,
    enabledTransports: ["ws", "wss"],
    disableStats: true,
  });
  const stop = keepReconnecting(client);
  cleanUp = () => {
    stop();
    client.disconnect();
  };
  return { client, port };
}

afterEach(() => {
  cleanUp?.();
  cleanUp = undefined;
  ProbeSocket.made = [];
  vi.useRealTimers();
  vi.unstubAllGlobals();
});

describe("checking for the realtime server while the connection is down", () => {
  it("starts checking for a connection already under way when it starts, as on a page opened during an outage", async () => {
    const { client, port } = await checkedClient();
    expect(client.connection.state).toBe("connecting");
    // The first check is due after 1 s (±20 %), long before pusher-js's own 15 s retry.
    await vi.advanceTimersByTimeAsync(1200);
    expect(client.connection.state).toBe("connecting");
    expect(ProbeSocket.made.map((s) => s.url)).toEqual([
      `ws://127.0.0.1:${port}/app/floorline-key?protocol=7&client=js&flash=false`,
    ]);
  });

  it("starts a fresh attempt only when the server greets the check as pusher-js expects, not on an error", async () => {
    const { client } = await checkedClient();
    const restarts = vi.spyOn(client, "disconnect");
    await vi.advanceTimersByTimeAsync(1200);
    // Over its connection limit, say: the server answers, but with an error and no connection.
    ProbeSocket.made[0]?.onmessage?.({ data: JSON.stringify({ event: "pusher:error", data: { code: 4100 } }) });
    expect(restarts).not.toHaveBeenCalled();
    await vi.advanceTimersByTimeAsync(2400);
    expect(ProbeSocket.made).toHaveLength(2);
    ProbeSocket.made[1]?.onmessage?.({
      data: JSON.stringify({ event: "pusher:connection_established", data: '{"socket_id":"1.2"}' }),
    });
    expect(restarts).toHaveBeenCalledTimes(1);
  });
});
