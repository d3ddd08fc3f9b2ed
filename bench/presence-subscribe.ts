/**
 * `npx tsx bench/presence-subscribe.ts`: what a presence subscribe costs on a cluster, as its
 * subscriber waits for it. Two nodes (REALTIME_ADAPTER=redis, a key prefix of their own, removed
 * after) on one Redis, reached through a TCP proxy in this process (tests/support/tcp-proxy.ts) that
 * counts round trips and, with DELAY_MS, holds each reply that long (Redis farther than loopback).
 * `one`: one socket subscribes to CHANNELS (200) presence channels one after another (each waits for
 * its subscription_succeeded): p50 / p99 of one subscribe, and the round trips to Redis per
 * subscribe. `burst`: SOCKETS (100) sockets, half on each node, each a user of its own, all subscribe
 * to one presence channel at once: the time until every one has its answer. ROUNDS (3) times; one
 * JSON line per round with the commit and the load average (1, 5, 15 min) before and after.
 *
 * A/B: run it in each checkout in turn (BASE needs no build), e.g.
 * `for i in 1 2; do (cd $BASE && npx tsx bench/presence-subscribe.ts); npx tsx bench/presence-subscribe.ts; done`.
 */
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

const channels = Number(process.env.CHANNELS ?? 200);
const sockets = Number(process.env.SOCKETS ?? 100);
const rounds = Number(process.env.ROUNDS ?? 3);
const delayMs = Number(process.env.DELAY_MS ?? 0);

type Raw = Awaited<ReturnType<typeof rawConnected>>;

function subscribe(raw: Raw, name: string, userId: string) {
  const channelData = JSON.stringify({ user_id: userId, user_info: { name: userId } });
  raw.send("pusher:subscribe", {
    channel: name,
    auth: signChannel(raw.socketId, name, channelData),
    channel_data: channelData,
  });
  return raw.next(
    (f) =>
      f.channel === name &&
      (f.event === "pusher_internal:subscription_succeeded" || f.event === "pusher:subscription_error"),
  );
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;

async function round() {
  const prefix = testRedisPrefix();
  const redis = await tcpProxy(Number(new URL(TEST_REDIS_URL).port || 6379), 0, { replyDelayMs: delayMs });
  const options = {
    redisUrl: `redis://127.0.0.1:${redis.port}`,
    nodeTtlSeconds: 60,
    maxChannelsPerConnection: channels,
    maxPresenceMembers: sockets,
  };
  const a = await startRealtime(clusterNode(prefix, options));
  const b = await startRealtime(clusterNode(prefix, options));
  const nodes = [a, b];
  try {
    const loadBefore = load();
    // One after another: what one subscriber waits for each.
    const one = await rawConnected(a);
    const times: number[] = [];
    const tripsBefore = redis.roundTrips();
    for (let i = 0; i < channels; i++) {
      const start = performance.now();
      const answer = await subscribe(one, `presence-one-${i}`, "solo");
      times.push(performance.now() - start);
      if (answer.event !== "pusher_internal:subscription_succeeded")
        throw new Error(`refused: ${JSON.stringify(answer)}`);
    }
    const tripsPerSubscribe = Number(((redis.roundTrips() - tripsBefore) / channels).toFixed(2));
    times.sort((a, b) => a - b);

    // All at once, half on each node.
    const raws = await Promise.all(Array.from({ length: sockets }, (_, i) => rawConnected(i % 2 ? b : a)));
    const burstStart = performance.now();
    const answers = await Promise.all(raws.map((raw, i) => subscribe(raw, "presence-burst", `u${i}`)));
    const burstMs = performance.now() - burstStart;
    const refused = answers.filter((a) => a.event !== "pusher_internal:subscription_succeeded").length;
    for (const raw of [one, ...raws]) raw.ws.close();
    return {
      commit,
      delayMs,
      oneP50Ms: Number(percentile(times, 50).toFixed(2)),
      oneP99Ms: Number(percentile(times, 99).toFixed(2)),
      tripsPerSubscribe,
      burstMs: Math.round(burstMs),
      burstRefused: refused,
      load: { before: loadBefore, after: load() },
    };
  } finally {
    await Promise.all(nodes.map((n) => n.close()));
    await redis.close();
    await dropRedisPrefix(prefix);
  }
}

for (let i = 0; i < rounds; i++) console.log(JSON.stringify(await round()));
process.exit(0);
