import { randomUUID } from "node:crypto";
import { expect, test } from "@playwright/test";
import { sql } from "drizzle-orm";
import { Client } from "pg";
import { request } from "../bench/path";
import { signedInPlayers } from "../bench/signed-in-players";
import { connectPostgres, type DbHandle, rowsOf } from "../db/client";
import { type Stack, startStack } from "../tests/support/stack";
import { tcpProxy } from "../tests/support/tcp-proxy";

/**
 * A send is answered once stored; its events may still be queued in the web process
 * (server/chat/gateway.ts). A web server told to stop lets them leave first (server/http/serve.ts).
 * The production server on a private stack, publishing through a proxy that answers late, so the
 * second send's events are still waiting behind the first's request when SIGTERM comes. (Here
 * and not in Vitest: the stack runs the production build, which Playwright's web server makes.)
 */
const BASE_PORT = Number(process.env.E2E_FAULT_PORT_BASE ?? 6231) + 5;

test.describe("stopping the web server (SIGTERM)", () => {
  let stack: Stack;
  let handle: DbHandle;
  let proxy: Awaited<ReturnType<typeof tcpProxy>>;
  test.beforeAll(async () => {
    test.setTimeout(180_000);
    // Publishes reach the realtime server (BASE_PORT + 1) at once; its answers come back 300 ms late.
    proxy = await tcpProxy(BASE_PORT + 1, BASE_PORT + 3, { replyDelayMs: 300 });
    stack = await startStack(BASE_PORT, { PUSHER_HOST: "127.0.0.1", PUSHER_PORT: String(BASE_PORT + 3) });
    handle = connectPostgres(stack.postgres.url, 2);
  });
  test.afterAll(async () => {
    await handle?.close();
    await stack?.stop();
    await proxy?.close();
  });

  const publishRequests = async () => {
    const metrics = await (await fetch(`http://127.0.0.1:${BASE_PORT + 1}/metrics`)).text();
    return Number(/realtime_http_requests_total (\d+)/.exec(metrics)?.[1]);
  };

  test("sends the events of answered sends before it exits", async () => {
    const [player] = await signedInPlayers(stack, handle.db, 1, "shutdown");
    if (!player) throw new Error("no player signed in");
    const before = await publishRequests();
    for (const text of ["first", "second"]) {
      const res = await request(`${stack.url}/api/trpc/chat.send`, {
        method: "POST",
        headers: { cookie: player.cookie, "content-type": "application/json", origin: stack.url },
        body: JSON.stringify({ json: { id: randomUUID(), text } }),
      });
      expect(res.status).toBe(200);
    }
    // Both answered; the second send's events wait in the player's lane for the first's answer.
    await stack.web.kill("SIGTERM");
    // One request per send: the first's, then the second's, sent after the first was answered.
    expect((await publishRequests()) - before).toBe(2);
  });

  test("finishes a send still in progress when the signal comes, and sends its events", async () => {
    await stack.web.start();
    const [player] = await signedInPlayers(stack, handle.db, 1, "shutdown-in-progress");
    if (!player) throw new Error("no player signed in");
    const before = await publishRequests();
    // The send's insert waits on a lock this test holds: it is in progress when SIGTERM comes.
    const blocker = new Client({ connectionString: stack.postgres.url });
    await blocker.connect();
    let exited: Promise<void> | undefined;
    try {
      await blocker.query("begin; lock table chat_messages in exclusive mode");
      const sent = request(`${stack.url}/api/trpc/chat.send`, {
        method: "POST",
        headers: { cookie: player.cookie, "content-type": "application/json", origin: stack.url },
        body: JSON.stringify({ json: { id: randomUUID(), text: "in progress" } }),
      });
      await expect
        .poll(async () => {
          const [row] = await rowsOf<{ n: number }>(
            handle.db,
            sql`select count(*)::int as n from pg_locks where relation = 'chat_messages'::regclass and not granted`,
          );
          return row?.n;
        })
        .toBe(1);
      exited = stack.web.kill("SIGTERM");
      // The server has taken the signal (it says so) while the send still waits.
      await expect.poll(() => stack.web.logs.some((line) => line.includes("[floorline] stopping"))).toBe(true);
      await blocker.query("commit");
      const reply = await sent;
      expect(reply.status).toBe(200);
      // And it tells its keep-alive client not to send more on that connection: Node keeps serving
      // a connection busy at close, so the next request went on it and the exit cut it off.
      expect(reply.headers.connection).toBe("close");
    } finally {
      await blocker.end();
    }
    await exited;
    expect((await publishRequests()) - before).toBe(1);
  });
});
