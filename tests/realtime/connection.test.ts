import { describe, expect, it } from "vitest";
import { APP, connected, rawClient, rawConnected, serverPerTest } from "../support/realtime";

const server = serverPerTest();

describe("connecting", () => {
  it("greets the official client with a socket id and activity timeout", async () => {
    const rt = await server.start({ activityTimeout: 42 });
    const raw = await rawClient(rt);
    const hello = await raw.next((f) => f.event === "pusher:connection_established");
    expect((hello.data as { socket_id: string }).socket_id).toMatch(/^\d+\.\d+$/);
    expect((hello.data as { activity_timeout: number }).activity_timeout).toBe(42);
    raw.ws.close();

    const client = server.client();
    expect(await connected(client)).toMatch(/^\d+\.\d+$/);
  });

  it.each([
    ["an unknown key", "/app/wrong-key?protocol=7", 4001],
    ["no protocol", `/app/${APP.key}`, 4008],
    ["an unsupported protocol", `/app/${APP.key}?protocol=5`, 4007],
  ])("refuses %s with pusher:error and close code", async (_label, path, code) => {
    const rt = await server.start();
    const raw = await rawClient(rt, path);
    const error = await raw.next((f) => f.event === "pusher:error");
    expect((error.data as { code: number }).code).toBe(code);
    expect((await raw.closed).code).toBe(code);
  });

  it("refuses connections over the limit with 4004", async () => {
    const rt = await server.start({ maxConnections: 2 });
    await rawConnected(rt);
    await rawConnected(rt);
    const third = await rawClient(rt);
    expect((await third.closed).code).toBe(4004);
  });
});

describe("keep-alive", () => {
  it("answers pusher:ping with pusher:pong", async () => {
    const rt = await server.start();
    const raw = await rawConnected(rt);
    raw.send("pusher:ping", {});
    await raw.next((f) => f.event === "pusher:pong");
  });

  it("pings an idle client and closes with 4201 when no pong comes", async () => {
    const rt = await server.start({ activityTimeout: 1, pongTimeoutMs: 200 });
    // autoPong off: this client ignores RFC 6455 pings as well as pusher:ping.
    const raw = await rawClient(rt, undefined, { autoPong: false });
    await raw.next((f) => f.event === "pusher:ping");
    expect((await raw.closed).code).toBe(4201);
  });

  it("keeps an idle client that answers", async () => {
    const rt = await server.start({ activityTimeout: 1, pongTimeoutMs: 300 });
    const raw = await rawConnected(rt);
    await raw.next((f) => f.event === "pusher:ping");
    raw.send("pusher:pong", {});
    // A second ping proves the first pong was accepted and the connection lived on.
    await raw.next((f) => f.event === "pusher:ping");
    raw.send("pusher:pong", {});
    expect(raw.ws.readyState).toBe(raw.ws.OPEN);
  });
});

describe("malformed frames", () => {
  it.each([
    ["text that is not JSON", (raw: Awaited<ReturnType<typeof rawConnected>>) => raw.ws.send("{nope")],
    ["JSON without an event", (raw: Awaited<ReturnType<typeof rawConnected>>) => raw.ws.send("[1,2]")],
    ["a binary frame", (raw: Awaited<ReturnType<typeof rawConnected>>) => raw.ws.send(Buffer.from([1, 2, 3]))],
    [
      "a huge frame",
      (raw: Awaited<ReturnType<typeof rawConnected>>) =>
        raw.ws.send(JSON.stringify({ event: "x", data: "a".repeat(200_000) })),
    ],
  ])("answers %s with pusher:error and stays up", async (_label, sendBad) => {
    const rt = await server.start({ maxFrameBytes: 65_536 });
    const raw = await rawConnected(rt);
    sendBad(raw);
    await raw.next((f) => f.event === "pusher:error");
    raw.send("pusher:ping", {});
    await raw.next((f) => f.event === "pusher:pong");
    expect(rt.server.hub.conns.size).toBe(1);
  });
});

describe("operations", () => {
  it("reports health, readiness and counters", async () => {
    const rt = await server.start();
    await rawConnected(rt);
    expect((await fetch(`${rt.url}/health`)).status).toBe(200);
    expect(await (await fetch(`${rt.url}/ready`)).json()).toEqual({ ready: true });
    const metrics = await (await fetch(`${rt.url}/metrics`)).text();
    expect(metrics).toMatch(/^realtime_connections 1$/m);
    expect(metrics).toMatch(/^realtime_connections_total 1$/m);
  });

  it("closes clients with 4200 on shutdown so they reconnect at once", async () => {
    const rt = await server.start();
    const raw = await rawConnected(rt);
    const stopping = rt.close();
    expect((await raw.closed).code).toBe(4200);
    await stopping;
    server.forget();
  });
});
