import { createHmac } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import type PusherClient from "pusher-js";
import { afterEach, describe, expect, it } from "vitest";
import { APP, connectClient, type Running, startRealtime, subscribed } from "../support/realtime";

type Hook = { headers: http.IncomingHttpHeaders; body: string; events: Array<Record<string, unknown>> };

/** A local receiver that records every webhook and can fail the first N deliveries. */
async function receiver(failFirst = 0) {
  const hooks: Hook[] = [];
  let attempts = 0;
  const waiters: Array<() => void> = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.on("data", (c) => {
      body += c;
    });
    req.on("end", () => {
      attempts++;
      if (attempts <= failFirst) {
        res.writeHead(500).end();
        return;
      }
      hooks.push({ headers: req.headers, body, events: JSON.parse(body).events });
      res.writeHead(200).end();
      for (const w of waiters.splice(0)) w();
    });
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const events = () => hooks.flatMap((h) => h.events);
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`,
    hooks,
    events,
    attempts: () => attempts,
    until: (predicate: () => boolean) =>
      new Promise<void>((resolve) => {
        const check = () => (predicate() ? resolve() : waiters.push(check));
        check();
      }),
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

let rt: Running | undefined;
let hooks: Awaited<ReturnType<typeof receiver>> | undefined;
const clients: PusherClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
  await rt?.close();
  await hooks?.close();
  rt = undefined;
});

describe("webhooks", () => {
  it("reports occupied, member and client events, then vacated, signed with the app secret", async () => {
    hooks = await receiver();
    rt = await startRealtime({ webhookUrl: hooks.url, webhookBatchMs: 20 });
    const a = connectClient(rt, { presence: { user_id: "asha" } });
    const b = connectClient(rt, { presence: { user_id: "vikram" } });
    clients.push(a, b);
    const channel = await subscribed(a, "presence-room");
    await subscribed(b, "presence-room");
    channel.trigger("client-typing", { on: true });
    const names = () => hooks?.events().map((e) => `${e.name}:${e.user_id ?? ""}`) ?? [];
    await hooks.until(() => names().includes("client_event:asha"));
    a.disconnect();
    b.disconnect();
    await hooks.until(() => names().includes("channel_vacated:"));

    expect(names()).toEqual(
      expect.arrayContaining([
        "channel_occupied:",
        "member_added:asha",
        "member_added:vikram",
        "client_event:asha",
        "member_removed:asha",
        "member_removed:vikram",
        "channel_vacated:",
      ]),
    );
    const clientEvent = hooks.events().find((e) => e.name === "client_event");
    expect(clientEvent).toMatchObject({ channel: "presence-room", event: "client-typing", data: '{"on":true}' });
    for (const hook of hooks.hooks) {
      expect(hook.headers["x-pusher-key"]).toBe(APP.key);
      expect(hook.headers["x-pusher-signature"]).toBe(createHmac("sha256", APP.secret).update(hook.body).digest("hex"));
      expect(JSON.parse(hook.body).time_ms).toEqual(expect.any(Number));
    }
  });

  it("retries a failed delivery with back-off", async () => {
    hooks = await receiver(2);
    rt = await startRealtime({ webhookUrl: hooks.url, webhookBatchMs: 0, webhookBackoffMs: 10 });
    const a = connectClient(rt);
    clients.push(a);
    await subscribed(a, "lobby");
    await hooks.until(() => hooks?.events().some((e) => e.name === "channel_occupied") ?? false);
    expect(hooks.attempts()).toBe(3);
  });
});
