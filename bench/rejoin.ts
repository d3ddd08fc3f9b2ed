/**
 * `npx tsx bench/rejoin.ts`: what a realtime node's rejoin of the Redis cluster and its
 * connections' leaves cost, in time and in round trips to Redis. One node (REALTIME_ADAPTER=redis,
 * a key prefix of its own, removed after) reaches Redis through a TCP proxy in this process
 * (tests/support/tcp-proxy.ts), which cuts Redis, counts round trips and, with DELAY_MS, holds each
 * reply that long (Redis farther away than loopback). While Redis is cut, SOCKETS (4) connections
 * subscribe to CHANNELS (100) presence channels each; then Redis comes back and the node rejoins:
 * timed from both its Redis clients being ready to its "Redis is back" log line. During the rejoin,
 * `loopMaxMs` is the longest this process's event loop was held (the node's, and the proxy's), and
 * `redisMaxMs` the slowest PING another process got from Redis meanwhile (one PING after another):
 * what one long MULTI costs everyone else on that Redis. Then the node's share is reaped (what a
 * stop does, or the others to a node past its time; `reapMs`, `reapTrips`, and `reapRedisMaxMs` the
 * slowest PING meanwhile, `reapLongestCallMs` Redis' own time for its longest call of the bench's
 * then, from its SLOWLOG: 0 when none took 10 ms) and written again. Last, every connection closes at once: timed until
 * Redis holds none of their subscriptions. With DISTINCT=1 each connection has
 * channels of its own (one member each) instead of all sharing the same CHANNELS: 100 × 100 is
 * then 10,000 channels and members without each member event going to 99 other sockets. BATCH sets
 * REALTIME_REDIS_BATCH (subscriptions per MULTI; BATCH=100000 sends a rejoin in one). ROUNDS (3) times;
 * prints one JSON line per round with the commit and the load average (1, 5, 15 min, before and
 * after), or `timedOut` with the stage a round was stuck in after TIMEOUT_MS (60 s).
 *
 * A/B: run it in each checkout in turn (BASE needs no build), e.g.
 * `for i in 1 2; do (cd $BASE && npx tsx bench/rejoin.ts); npx tsx bench/rejoin.ts; done`.
 */
import { spawn } from "node:child_process";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { Redis } from "ioredis";
import {
  clusterNode,
  dropRedisPrefix,
  rawConnected,
  signChannel,
  startRealtime,
  TEST_REDIS_URL,
  testRedisPrefix,
} from "../tests/support/realtime";
import { tcpProxy } from "../tests/support/tcp-proxy";
import { commit, load } from "./run-info";

const sockets = Number(process.env.SOCKETS ?? 4);
const channels = Number(process.env.CHANNELS ?? 100);
const rounds = Number(process.env.ROUNDS ?? 3);
const delayMs = Number(process.env.DELAY_MS ?? 0);
const distinct = process.env.DISTINCT === "1";
const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

/** Where the round is, for a round that never finishes (TIMEOUT_MS, 60 s). */
let stage = "start";
const timeoutMs = Number(process.env.TIMEOUT_MS ?? 60_000);

type Client = { status: string; once(event: "ready", listener: () => void): void };

async function round() {
  const prefix = testRedisPrefix();
  const redis = await tcpProxy(Number(new URL(TEST_REDIS_URL).port || 6379), 0, { replyDelayMs: delayMs });
  const rt = await startRealtime(
    clusterNode(prefix, {
      redisUrl: `redis://127.0.0.1:${redis.port}`,
      nodeTtlSeconds: 60,
      maxChannelsPerConnection: channels,
      ...(process.env.BATCH ? { redisBatch: Number(process.env.BATCH) } : {}),
    }),
  );
  const watch = new Redis(TEST_REDIS_URL);
  try {
    const adapter = rt.server.hub.adapter as unknown as {
      redis: Client;
      sub: Client;
      nodeId: string;
      dirty: boolean;
      reap(id: string): Promise<unknown>;
      back(): Promise<void>;
    };
    const namesOf = (socket: number) =>
      Array.from({ length: channels }, (_, i) => (distinct ? `presence-bench-${socket}-${i}` : `presence-bench-${i}`));
    const names = namesOf(sockets - 1);
    stage = "cut";
    redis.cut();
    while (rt.server.hub.adapter.shared()) await tick();
    const raws = await Promise.all(Array.from({ length: sockets }, () => rawConnected(rt)));
    for (const [i, raw] of raws.entries()) {
      const channelData = JSON.stringify({ user_id: `u${i}` });
      for (const name of namesOf(i)) {
        raw.send("pusher:subscribe", {
          channel: name,
          auth: signChannel(raw.socketId, name, channelData),
          channel_data: channelData,
        });
      }
    }
    while (rt.server.hub.info(names.at(-1) ?? "").subscription_count < (distinct ? 1 : sockets)) await tick();

    // Rejoin: from both clients ready (their reconnect back-off is not the rejoin's) to the log line.
    const readyAt = Promise.all(
      [adapter.redis, adapter.sub].map(
        (c) => new Promise<number>((resolve) => c.once("ready", () => resolve(Date.now()))),
      ),
    ).then((at) => Math.max(...at));
    const back = new Promise<number>((resolve) => {
      const push = rt.logs.push.bind(rt.logs);
      rt.logs.push = (...lines: string[]) => {
        if (lines.some((l) => l.includes("Redis is back"))) resolve(Date.now());
        return push(...lines);
      };
    });
    const tripsBefore = redis.roundTrips();
    stage = "rejoin";
    const loop = monitorEventLoopDelay({ resolution: 5 });
    loop.enable();
    const pinger = await redisPinger();
    redis.restore();
    const rejoinMs = (await back) - (await readyAt);
    const rejoinTrips = redis.roundTrips() - tripsBefore;
    const redisMaxMs = await pinger.stop();
    loop.disable();
    const loopMaxMs = Math.round(loop.max / 1e6);

    // Reap: the node's share taken out of the cluster, as when it stops or the others take it for
    // dead; then written again, for the leaves below.
    const subs = `${prefix}realtime:${rt.config.appId}:subs`;
    const held = distinct ? sockets * channels : channels;
    while ((await watch.hlen(subs)) < held) await tick();
    stage = "reap";
    const reapTripsBefore = redis.roundTrips();
    const slowBefore = await slowlog(watch, prefix);
    const reapPinger = await redisPinger();
    const reapStart = Date.now();
    await adapter.reap(adapter.nodeId);
    const reapMs = Date.now() - reapStart;
    const reapRedisMaxMs = await reapPinger.stop();
    const reapTrips = redis.roundTrips() - reapTripsBefore;
    // Redis' own time for its longest call of ours meanwhile (its SLOWLOG: calls of 10 ms and more).
    const reapLongestCallMs = (await slowlog(watch, prefix)).filter((e) => e.id > slowBefore.maxId).maxMs;
    stage = "rejoin after the reap";
    adapter.dirty = true;
    await adapter.back();

    // Leaves: every connection at once, until Redis holds none of their subscriptions.
    stage = "leave";
    while ((await watch.hlen(subs)) < held) await tick();
    const leaveTripsBefore = redis.roundTrips();
    const leaveStart = Date.now();
    for (const raw of raws) raw.ws.close();
    while ((await watch.hlen(subs)) > 0) await tick();
    const leaveMs = Date.now() - leaveStart;
    const leaveTrips = redis.roundTrips() - leaveTripsBefore;
    return {
      rejoinMs,
      rejoinTrips,
      loopMaxMs,
      redisMaxMs,
      reapMs,
      reapTrips,
      reapRedisMaxMs,
      reapLongestCallMs,
      leaveMs,
      leaveTrips,
    };
  } finally {
    watch.disconnect();
    await rt.close();
    await redis.close();
    await dropRedisPrefix(prefix);
  }
}

/**
 * This bench's calls in Redis' SLOWLOG (those that took `slowlog-log-slower-than`, 10 ms by
 * default, or more): read only, never reset, as the Redis is shared. `filter` keeps the newer ones.
 */
async function slowlog(watch: Redis, prefix: string) {
  const entries = ((await watch.slowlog("GET", 128)) as Array<[number, number, number, string[]]>)
    .filter(([, , , args]) => args.some((a) => String(a).startsWith(prefix)))
    .map(([id, , micros]) => ({ id, ms: micros / 1000 }));
  const of = (list: typeof entries) => ({
    maxId: Math.max(-1, ...list.map((e) => e.id)),
    maxMs: Math.round(Math.max(0, ...list.map((e) => e.ms))),
    filter: (keep: (e: { id: number }) => boolean) => of(list.filter(keep)),
  });
  return of(entries);
}

/**
 * PINGs Redis one after another from a process of its own (this one's event loop is the node's),
 * until stopped; the slowest round trip in ms.
 */
async function redisPinger() {
  const url = new URL(TEST_REDIS_URL);
  const script = `
    const socket = require("node:net").connect(${Number(url.port || 6379)}, ${JSON.stringify(url.hostname)});
    let max = 0, sent = 0;
    const ping = () => { sent = performance.now(); socket.write("PING\\r\\n"); };
    socket.on("connect", () => { process.stdout.write("ready\\n"); ping(); });
    socket.on("data", () => { max = Math.max(max, performance.now() - sent); ping(); });
    process.stdin.on("data", () => { process.stdout.write(String(Math.round(max)) + "\\n"); process.exit(0); });`;
  const child = spawn(process.execPath, ["-e", script], { stdio: ["pipe", "pipe", "inherit"] });
  const lines = child.stdout.setEncoding("utf8");
  const next = () => new Promise<string>((resolve) => lines.once("data", (l: string) => resolve(l.trim())));
  await next();
  return {
    stop: async () => {
      const max = next();
      child.stdin.write("stop\n");
      return Number(await max);
    },
  };
}

for (let i = 0; i < rounds; i++) {
  const loadBefore = load();
  stage = "start";
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = new Promise<{ timedOut: string }>((resolve) => {
    timer = setTimeout(() => resolve({ timedOut: stage }), timeoutMs);
  });
  const result = await Promise.race([round(), timedOut]);
  clearTimeout(timer);
  console.log(
    JSON.stringify({
      commit,
      subscriptions: sockets * channels,
      distinct,
      delayMs,
      ...result,
      load: [...loadBefore, ...load()],
    }),
  );
  if ("timedOut" in result) break;
}
process.exit(0);
