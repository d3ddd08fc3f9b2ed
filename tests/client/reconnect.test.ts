import net from "node:net";
import Pusher from "pusher-js";
import { afterEach, describe, expect, it, vi } from "vitest";
import WebSocket from "ws";
import { keepReconnecting } from "@/app/_realtime/reconnect";
import { type RealtimeProcess, spawnRealtime } from "../realtime/process";
import { APP } from "../support/realtime";

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

/** pusher-js (its Node build) on a loopback port, as the provider makes it. */
function pusherOn(port: number, key: string) {
  return new Pusher(key, {
    cluster: "mt1",
    wsHost: "127.0.0.1",
    wsPort: port,
    wssPort: port,
    forceTLS: false,
    enabledTransports: ["ws", "wss"],
    disableStats: true,
  });
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
  const client = pusherOn(port, "floorline-key");
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
    // The first check is due after 0.5 s (±20 %), long before pusher-js's own 15 s retry.
    await vi.advanceTimersByTimeAsync(600);
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

/** Resolves on the client's next change to `state` (now, if it is in it). */
function reaches(client: Pusher, state: string) {
  return new Promise<void>((resolve) => {
    if (client.connection.state === state) return resolve();
    const on = ({ current }: { current: string }) => {
      if (current !== state) return;
      client.connection.unbind("state_change", on);
      resolve();
    };
    client.connection.bind("state_change", on);
  });
}

describe("after the realtime server dies (its process SIGKILLed, then started again on its port)", () => {
  it("checks for it while pusher-js still waits out its own first retry, and the client comes back", async () => {
    const servers: RealtimeProcess[] = [await spawnRealtime()];
    const port = servers[0]?.port ?? 0;
    const client = pusherOn(port, APP.key);
    // The checks' WebSocket (the browser's, here a real one from ws): what pusher-js's connection
    // was doing when each check was made. pusher-js's own sockets in Node are not these.
    const checks: string[] = [];
    let checked = () => {};
    const firstCheck = new Promise<void>((resolve) => {
      checked = resolve;
    });
    vi.stubGlobal(
      "WebSocket",
      class extends WebSocket {
        constructor(url: string) {
          super(url);
          checks.push(client.connection.state);
          checked();
        }
      },
    );
    const stop = keepReconnecting(client);
    cleanUp = () => {
      stop();
      client.disconnect();
      // The server itself, not only tsx above it: a SIGKILLed tsx cannot pass the signal on, and
      // its server would outlive the run.
      for (const s of servers) if (!s.exit) process.kill(s.serverPid(), "SIGKILL");
    };
    await reaches(client, "connected");

    // A crash: the process gets no chance to close its sockets (pusher-js sees 1006). It stays
    // down until the client has checked for it once.
    const dead = servers[0] as RealtimeProcess;
    const exited = new Promise((r) => dead.child.once("exit", r));
    process.kill(dead.serverPid(), "SIGKILL");
    await exited;
    await firstCheck;
    servers.push(await spawnRealtime({ REALTIME_PORT: String(port) }));
    await reaches(client, "connected");

    // pusher-js answers a close without a word by waiting 1 s (its state still "connected"), then
    // tries once and, refused, waits 15 s. The first check came during that first wait, not only
    // after pusher-js's own try had failed.
    expect(checks[0]).toBe("connected");
  });
});
