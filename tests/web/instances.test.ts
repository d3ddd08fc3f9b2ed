import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes, randomUUID } from "node:crypto";
import path from "node:path";
import { and, eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { connectPostgres, type DbHandle } from "@/db/client";
import { chatEvents } from "@/db/schema";
import { DEMO_PASSWORD } from "@/db/seed";
import { decodeEvent, type RequestEvent } from "@/protocol/events";
import { LOCKS, runExclusive } from "@/server/shared-state";
import { freshPostgresDatabase } from "../support/db";
import {
  APP,
  connectClient,
  dropRedisPrefix,
  type Running,
  startRealtime,
  subscribed,
  TEST_REDIS_URL,
  testRedisPrefix,
} from "../support/realtime";

/**
 * Two web instances as two processes on one Postgres database and one Redis, publishing to our
 * realtime server: what one instance knows, the other must too. (Postgres only: the embedded
 * database serves one process.)
 */
const postgres = !!process.env.TEST_DATABASE_URL;
const PUSHER_SECRET = randomBytes(32).toString("hex");

describe.skipIf(!postgres).each([
  ["Redis (REDIS_URL set)", true],
  ["the database alone", false],
])("two web instances on one database, shared state in %s", (_label, withRedis) => {
  const tsx = path.join(process.cwd(), "node_modules", ".bin", "tsx");
  let database: Awaited<ReturnType<typeof freshPostgresDatabase>>;
  let handle: DbHandle;
  let rt: Running;
  let prefix: string;
  const instances: Array<{ child: ChildProcess; url: string }> = [];

  async function startInstance(env: Record<string, string>) {
    const child = spawn(tsx, ["tests/support/web-instance.ts"], {
      env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", NODE_ENV: "test", ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    const port = await new Promise<number>((resolve, reject) => {
      const onData = (d: Buffer) => {
        output += d;
        const match = /listening on (\d+)/.exec(output);
        if (match) resolve(Number(match[1]));
      };
      child.stdout?.on("data", onData);
      child.stderr?.on("data", onData);
      child.once("exit", () => reject(new Error(`web instance exited:\n${output}`)));
    });
    const instance = { child, url: `http://127.0.0.1:${port}` };
    instances.push(instance);
    return instance;
  }

  beforeAll(async () => {
    database = await freshPostgresDatabase();
    prefix = testRedisPrefix();
    rt = await startRealtime({ secret: PUSHER_SECRET });
    const env = {
      DATABASE_URL: database.url,
      SEED_DEMO_DATA: "true",
      ...(withRedis ? { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: prefix } : {}),
      AUTH_SIGN_IN_LIMIT_PER_MINUTE: "4",
      ESCALATE_AFTER_SECONDS: "1",
      ESCALATION_CHECK_SECONDS: "1",
      // Staff take chats by hand here (claim races, escalation of a waiting chat), as in the e2e server.
      AUTO_ASSIGN_CHATS: "false",
      PUSHER_APP_ID: APP.appId,
      PUSHER_KEY: APP.key,
      PUSHER_SECRET,
      // A database URL makes a deployment: it must bring its own secrets.
      BETTER_AUTH_SECRET: randomBytes(32).toString("hex"),
      // The tests play the proxy: their X-Forwarded-For names the client.
      TRUSTED_PROXIES: "127.0.0.1,::1",
      PUSHER_HOST: "127.0.0.1",
      PUSHER_PORT: String(rt.port),
    };
    // The first migrates and seeds; the second starts on the ready database, as a scaled-out deploy does.
    await startInstance(env);
    await startInstance(env);
    handle = connectPostgres(database.url, 2);
    // Two processes started one after the other (tsx compiling the app, migrations, the demo
    // accounts' password hashes): at load 25-28 on 2 cores they took more than 60 s, straight to
    // Postgres as through a proxy that delays its replies. A process that fails to start rejects at
    // once (startInstance); the limit only bounds a hang.
  }, 180_000);

  afterAll(async () => {
    await Promise.all(
      instances.map(({ child }) => {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGTERM");
        return exited;
      }),
    );
    await rt?.close();
    await handle?.close();
    await database?.drop();
    await dropRedisPrefix(prefix);
  });

  const url = (i: number) => {
    const instance = instances[i];
    if (!instance) throw new Error("instance not started");
    return instance.url;
  };
  const a = () => url(0);
  const b = () => url(1);

  function signIn(base: string, email: string, password = DEMO_PASSWORD, ip = "203.0.113.7") {
    return fetch(`${base}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: base, "x-forwarded-for": ip },
      body: JSON.stringify({ email, password }),
    });
  }

  async function cookieFor(base: string, email: string) {
    const res = await signIn(base, email, DEMO_PASSWORD, `198.51.100.${Math.floor(Math.random() * 250)}`);
    expect(res.status).toBe(200);
    return res.headers
      .getSetCookie()
      .map((c) => c.split(";")[0])
      .join("; ");
  }

  async function trpc(base: string, cookie: string, procedure: string, input: unknown) {
    const res = await fetch(`${base}/api/trpc/${procedure}`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie },
      body: JSON.stringify({ json: input }),
    });
    const body = await res.json();
    return { status: res.status, data: body.result?.data?.json, error: body.error?.json };
  }

  it("counts sign-in attempts made on both against one limit", async () => {
    const ip = `192.0.2.${Math.floor(Math.random() * 250)}`;
    const statuses = await Promise.all(
      [a(), b(), a(), b(), a(), b()].map(
        async (base) => (await signIn(base, "asha@floorline.test", "wrong-password", ip)).status,
      ),
    );
    // Four attempts per minute in all, wherever they land and however close together.
    expect(statuses.sort()).toEqual([401, 401, 401, 401, 429, 429]);
  });

  it("lets exactly one of 20 concurrent claims spread over both win", async () => {
    const player = await cookieFor(a(), "player31@floorline.test");
    const sent = await trpc(a(), player, "chat.send", { id: randomUUID(), text: "Who takes this?" });
    expect(sent.status).toBe(200);
    const requestId: string = sent.data.request.id;
    const staff = [await cookieFor(a(), "asha@floorline.test"), await cookieFor(b(), "vikram@floorline.test")];
    const claims = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        trpc(i % 2 ? b() : a(), staff[Math.floor(i / 2) % 2] ?? "", "staff.claim", { requestId }),
      ),
    );
    const winners = new Set(claims.filter((c) => c.status === 200).map((c) => c.data.assignedStaffId));
    expect(winners.size).toBe(1);
    expect(claims.filter((c) => c.status !== 200).every((c) => c.status === 409)).toBe(true);
    const claimed = await handle.db
      .select()
      .from(chatEvents)
      .where(and(eq(chatEvents.requestId, requestId), eq(chatEvents.type, "claimed")));
    expect(claimed).toHaveLength(1);
  });

  it("escalates a long wait once, though both instances run the loop", async () => {
    const staffFeed = await subscribed(connectClient(rt, { secret: PUSHER_SECRET }), "private-staff-portal");
    const escalated: string[] = [];
    staffFeed.bind("chat-request-escalated", (raw: unknown) =>
      escalated.push(decodeEvent<RequestEvent>(raw).request.id),
    );
    const first = await trpc(a(), await cookieFor(a(), "player29@floorline.test"), "chat.send", {
      id: randomUUID(),
      text: "Still waiting",
    });
    await expect.poll(() => escalated, { timeout: 10_000 }).toContain(first.data.request.id);
    // A later request escalating proves more passes ran on the instances after the first one.
    const second = await trpc(b(), await cookieFor(b(), "player30@floorline.test"), "chat.send", {
      id: randomUUID(),
      text: "Me too",
    });
    await expect.poll(() => escalated, { timeout: 10_000 }).toContain(second.data.request.id);
    expect(escalated.filter((id) => id === first.data.request.id)).toHaveLength(1);
    expect(escalated.filter((id) => id === second.data.request.id)).toHaveLength(1);
  });
});

describe.skipIf(!postgres)("the escalation lease", () => {
  it("lets one instance run the pass while the other skips it, and frees it when the pass ends", async () => {
    const database = await freshPostgresDatabase();
    const [one, two] = [connectPostgres(database.url, 2), connectPostgres(database.url, 2)];
    try {
      let release = () => {};
      const gate = new Promise<void>((resolve) => {
        release = resolve;
      });
      let started = () => {};
      const running = new Promise<void>((resolve) => {
        started = resolve;
      });
      const first = runExclusive(one, LOCKS.escalation, async () => {
        started();
        await gate;
      });
      await running;
      expect(await runExclusive(two, LOCKS.escalation, async () => {})).toBe(false);
      release();
      expect(await first).toBe(true);
      expect(await runExclusive(two, LOCKS.escalation, async () => {})).toBe(true);
    } finally {
      await Promise.all([one.close(), two.close()]);
      await database.drop();
    }
  });
});
