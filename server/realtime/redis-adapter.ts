import { randomUUID } from "node:crypto";
import { type ChainableCommander, Redis } from "ioredis";
import type { Adapter, Broadcast, CachedEvent, ChannelCounts, LocalChange, LocalNode, Transitions } from "./adapter";
import type { RealtimeConfig } from "./config";
import type { Metrics } from "./metrics";
import { channelKind } from "./protocol";

/*
 * Keys, under the prefix (`{p}`), for every node of one app:
 *   {p}nodes                  zset  node id → when it counts as dead (ms, Redis' clock)
 *   {p}subs                   hash  channel → subscriptions on all nodes
 *   {p}members:{channel}      hash  user id → that user's connections on all nodes
 *   {p}info:{channel}         hash  user id → user_info JSON
 *   {p}node:{id}:subs         hash  channel → this node's share of {p}subs
 *   {p}node:{id}:members      hash  "{channel}\n{user id}" → this node's share of members
 *   {p}cache:{channel}        string last event of a cache- channel (expires by itself)
 *   {p}cache-index            zset  channel → written at, to keep at most maxCacheChannels
 *   {p}bus                    pub/sub: every frame and terminate order, for every node
 * Each change is one Lua script, so the counts of the whole cluster and the node's own share
 * move together, and "first member" / "last member" is decided once, in Redis. A node's share
 * is what the others subtract when it dies ("reaping"). Channel names never hold "\n".
 * Changes go in MULTIs of at most `redisBatch` (REALTIME_REDIS_BATCH): the joins and leaves asked
 * for while the node's previous write was on its way go together, in their order, and a rejoin
 * sends its subscriptions that many at a time. One round trip each, not one per subscription (400
 * of them took 4.6 s at load 18), nor one MULTI of everything (10,000 held Redis 0.2–0.9 s and
 * this node's event loop 0.8–3.8 s; bench/README.md "10,000 subscriptions").
 */

const JOIN = `
local p, node, ch, user, info = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local first = redis.call('HINCRBY', p..'subs', ch, 1) == 1 and 1 or 0
redis.call('HINCRBY', p..'node:'..node..':subs', ch, 1)
local added = 0
if user ~= '' then
  if redis.call('HINCRBY', p..'members:'..ch, user, 1) == 1 then
    added = 1
    redis.call('HSET', p..'info:'..ch, user, info)
  end
  redis.call('HINCRBY', p..'node:'..node..':members', ch..'\\n'..user, 1)
end
return {first, added}`;

// Only what this node still holds is taken away: after it was reaped (an outage, a stop) a late
// leave must not take another node's subscription out of the counts.
const LEAVE = `
local p, node, ch, user = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local function down(key, field)
  if redis.call('HINCRBY', key, field, -1) <= 0 then redis.call('HDEL', key, field) return 1 end
  return 0
end
local vacated, removed = 0, 0
local nodeSubs, nodeMembers = p..'node:'..node..':subs', p..'node:'..node..':members'
if redis.call('HEXISTS', nodeSubs, ch) == 1 then
  down(nodeSubs, ch)
  vacated = down(p..'subs', ch)
end
if user ~= '' and redis.call('HEXISTS', nodeMembers, ch..'\\n'..user) == 1 then
  down(nodeMembers, ch..'\\n'..user)
  removed = down(p..'members:'..ch, user)
  if removed == 1 then redis.call('HDEL', p..'info:'..ch, user) end
end
return {vacated, removed}`;

/** Takes a node's share out of the cluster's counts; returns what that emptied: {kind, channel, user}… */
const REAP = `
local p, node = ARGV[1], ARGV[2]
local out = {}
local nodeSubs, nodeMembers = p..'node:'..node..':subs', p..'node:'..node..':members'
local subs = redis.call('HGETALL', nodeSubs)
for i = 1, #subs, 2 do
  local ch = subs[i]
  if redis.call('HINCRBY', p..'subs', ch, -tonumber(subs[i + 1])) <= 0 then
    redis.call('HDEL', p..'subs', ch)
    table.insert(out, 'v') table.insert(out, ch) table.insert(out, '')
  end
end
local members = redis.call('HGETALL', nodeMembers)
for i = 1, #members, 2 do
  local field = members[i]
  local cut = string.find(field, '\\n', 1, true)
  local ch, user = string.sub(field, 1, cut - 1), string.sub(field, cut + 1)
  if redis.call('HINCRBY', p..'members:'..ch, user, -tonumber(members[i + 1])) <= 0 then
    redis.call('HDEL', p..'members:'..ch, user)
    redis.call('HDEL', p..'info:'..ch, user)
    table.insert(out, 'm') table.insert(out, ch) table.insert(out, user)
  end
end
redis.call('DEL', nodeSubs, nodeMembers)
redis.call('ZREM', p..'nodes', node)
return out`;

/**
 * Marks this node alive until now + ARGV[3] ms; returns whether it was registered (0: never, or
 * reaped by another node) and the nodes whose time has passed.
 */
const HEARTBEAT = `
local p, node, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local known = redis.call('ZSCORE', p..'nodes', node) and 1 or 0
redis.call('ZADD', p..'nodes', now + ttl, node)
return {known, redis.call('ZRANGEBYSCORE', p..'nodes', '-inf', now)}`;

/**
 * The heartbeat, for a node that must still be registered: 0, and nothing renewed, when it is
 * not (another node reaped it meanwhile and took its share out of the counts).
 */
const RENEW = `
local p, node, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3])
if not redis.call('ZSCORE', p..'nodes', node) then return 0 end
local t = redis.call('TIME')
redis.call('ZADD', p..'nodes', tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000) + ttl, node)
return 1`;

const REMEMBER = `
local p, ch, value, ttl, max = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4]), tonumber(ARGV[5])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('SET', p..'cache:'..ch, value, 'PX', ttl)
redis.call('ZADD', p..'cache-index', now, ch)
redis.call('ZREMRANGEBYSCORE', p..'cache-index', '-inf', now - ttl)
local extra = redis.call('ZCARD', p..'cache-index') - max
if extra > 0 then
  for _, old in ipairs(redis.call('ZPOPMIN', p..'cache-index', extra)) do
    if old ~= ch then redis.call('DEL', p..'cache:'..old) end
  end
end
return redis.call('ZCARD', p..'cache-index')`;

type BusMessage = { t: "e"; c: string; f: string; x?: string } | { t: "k"; u: string };

/** A MULTI with the scripts above queued in it. */
type Queue = ChainableCommander & {
  rtJoin(...args: string[]): Queue;
  rtLeave(...args: string[]): Queue;
  rtReap(...args: string[]): Queue;
  rtHeartbeat(...args: string[]): Queue;
  rtRenew(...args: string[]): Queue;
};

/** A join or leave waiting for its turn to be written; `done` gets what it changed. */
type Change = { join: boolean; change: LocalChange; done: (t: Transitions) => void };

type Commands = Redis & {
  rtJoin(...args: string[]): Promise<[number, number]>;
  rtLeave(...args: string[]): Promise<[number, number]>;
  rtReap(...args: string[]): Promise<string[]>;
  rtHeartbeat(...args: string[]): Promise<[number, string[]]>;
  rtRemember(...args: (string | number)[]): Promise<number>;
};

/**
 * Several nodes on one Redis behave as one server (soketi's redis adapter is the model). Every
 * frame goes through one pub/sub channel and each node delivers what it receives, its own
 * publishes included: Redis orders them, so subscribers everywhere see a channel's events in
 * publish order, once. Counts and presence live in Redis (scripts above). Each node renews a
 * heartbeat; the others reap one that misses it for `nodeTtlSeconds`.
 *
 * Redis unreachable: the node answers for itself (delivery to its own sockets, its own counts),
 * logs it once, reports it on /ready, and when Redis returns re-registers what it holds.
 *
 * Client: ioredis — soketi's choice; it reconnects with back-off, re-subscribes pub/sub on its
 * own, and `defineCommand` runs the scripts by SHA (EVALSHA, EVAL once on NOSCRIPT).
 */
export class RedisAdapter implements Adapter {
  readonly kind = "redis";
  readonly nodeId = randomUUID();
  private readonly prefix: string;
  private readonly redis: Commands;
  private readonly sub: Redis;
  private heartbeat: ReturnType<typeof setInterval> | null = null;
  /** Whether we said Redis is gone (said once, until it is back). */
  private down = false;
  /** This node's share must be written again (after an outage, or at start). */
  private dirty = true;
  private lastCacheSize = 0;
  private stopped = false;
  /** This node's writes to its share (joins, leaves, rejoins), one at a time in the hub's order. */
  private writes: Promise<unknown> = Promise.resolve();
  /** Rejoins queued or under way: until they land, this node is rightly unknown to the others. */
  private rejoins = 0;
  /** Joins and leaves queued behind the write under way, to go in one MULTI; null when none wait. */
  private batch: Change[] | null = null;

  constructor(
    private readonly node: LocalNode,
    private readonly config: RealtimeConfig,
    private readonly log: (msg: string) => void,
    private readonly metrics: Metrics,
  ) {
    this.prefix = `${config.redisPrefix}realtime:${config.appId}:`;
    const options = {
      // Fail fast while Redis is away: the node then answers for itself instead of waiting.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      retryStrategy: (times: number) => Math.min(times * 100, 2000),
      lazyConnect: true,
    };
    this.redis = new Redis(config.redisUrl, options) as Commands;
    // The subscriber (re)subscribes each time it is ready, below.
    this.sub = new Redis(config.redisUrl, { ...options, autoResubscribe: false });
    const scripts = {
      rtJoin: JOIN,
      rtLeave: LEAVE,
      rtReap: REAP,
      rtHeartbeat: HEARTBEAT,
      rtRenew: RENEW,
      rtRemember: REMEMBER,
    };
    for (const [name, lua] of Object.entries(scripts)) this.redis.defineCommand(name, { numberOfKeys: 0, lua });
    for (const client of [this.redis, this.sub]) {
      client.on("error", (err: Error) => this.lost(err));
      client.on("close", () => this.lost(new Error("connection closed")));
    }
    this.redis.on("ready", () => void this.back());
    this.sub.on("ready", () => void this.listen().then(() => this.back()));
    this.sub.on("message", (_channel: string, raw: string) => this.received(raw));
  }

  async start() {
    // Not reachable at start is an outage like any other: serve our own sockets, rejoin later.
    await Promise.allSettled([this.redis.connect(), this.sub.connect()]);
    await this.listen();
    await this.back();
    const every = (this.config.nodeTtlSeconds * 1000) / 4;
    this.heartbeat = setInterval(() => void this.beat(), every);
    this.heartbeat.unref();
  }

  async stop() {
    if (this.heartbeat) clearInterval(this.heartbeat);
    // A clean stop takes this node's share out at once instead of after the TTL, after the
    // writes already queued; the ones queued later find the node stopped and write nothing.
    const out = this.shared() ? this.inOrder(() => this.reap(this.nodeId)) : null;
    this.stopped = true;
    await out?.catch(() => {});
    this.redis.disconnect();
    this.sub.disconnect();
  }

  shared() {
    return this.redis.status === "ready" && this.sub.status === "ready";
  }

  private async listen() {
    if (this.sub.status === "ready") await this.sub.subscribe(`${this.prefix}bus`).catch(() => {});
  }

  private lost(err: Error) {
    if (this.stopped) return;
    // Also when already down: a rejoin under way when this came lost what it wrote with the
    // connection, so it must not count as done.
    this.dirty = true;
    if (this.down) return;
    this.down = true;
    this.log(
      `[realtime] Redis unreachable (${err.message}): serving this node's sockets alone until it returns (REDIS_URL)`,
    );
  }

  /**
   * Runs writes to this node's share one after another, in the order they were asked for. The
   * hub changes its own state at once and asks for the write after; were a rejoin's writes to
   * interleave with a join's or a leave's, a leave could land before the join it undoes and
   * leave a member behind in the cluster for good.
   */
  private inOrder<T>(write: () => Promise<T>): Promise<T> {
    // Joins and leaves asked for after this write go after it, not into a batch before it.
    this.batch = null;
    const done = this.writes.then(write, write);
    this.writes = done.catch(() => {});
    return done;
  }

  /**
   * (Re)joins the cluster: this node's old share out, its current subscriptions in. The
   * subscriptions are read now, when the rejoin is queued: the writes queued before it are
   * replaced by it, and the ones queued after apply on top of it.
   */
  private back() {
    if (this.stopped || !this.shared() || !this.dirty) return Promise.resolve();
    this.dirty = false;
    const subscriptions = this.node.localSubscriptions();
    this.rejoins++;
    return this.inOrder(() => this.rejoin(subscriptions)).finally(() => this.rejoins--);
  }

  /**
   * The first MULTI takes the old share out, renews the heartbeat and writes the first
   * `redisBatch` subscriptions; each next one renews the heartbeat (only if no other node reaped
   * this one meanwhile) and writes the next. Cut short, the rejoin stops and the next starts over:
   * it takes out whatever this one wrote with the rest of the old share.
   */
  private async rejoin(subscriptions: ReturnType<LocalNode["localSubscriptions"]>) {
    const keyOf = (sub: { name: string; userId: string | null }) => `${sub.name}\n${sub.userId ?? ""}`;
    const size = this.config.redisBatch;
    let dead: string[] = [];
    let removed = new Set<string>();
    let reaped = false;
    try {
      for (let from = 0; from === 0 || from < subscriptions.length; from += size) {
        const chunk = subscriptions.slice(from, from + size);
        const joins = await this.atomically((multi) => {
          if (from === 0) multi.rtReap(this.prefix, this.nodeId).rtHeartbeat(this.prefix, this.nodeId, this.ttlMs());
          else multi.rtRenew(this.prefix, this.nodeId, this.ttlMs());
          for (const sub of chunk) {
            multi.rtJoin(this.prefix, this.nodeId, sub.name, sub.userId ?? "", JSON.stringify(sub.info ?? null));
          }
        });
        const [first, second] = joins.splice(0, from === 0 ? 2 : 1);
        if (from === 0) {
          dead = (second as [number, string[]])[1];
          removed = new Set(this.reaped(first as string[], false).map(keyOf));
          // Members that left this node during the outage: the others still had them.
          const kept = new Set(subscriptions.map(keyOf));
          for (const key of removed) {
            if (kept.has(key)) continue;
            removed.delete(key);
            const [name = "", userId = ""] = key.split("\n");
            if (userId) this.node.announce({ name, userId }, { channel: false, member: true }, false);
          }
        } else if (first !== 1) {
          // Reaped by another node between two MULTIs: the share is not whole; start over (below).
          this.dirty = true;
          reaped = true;
        }
        for (const [i, sub] of chunk.entries()) {
          const t = transitions(joins[i]);
          // Members others saw leave while we were away are news again; the rest never left.
          if (!removed.delete(keyOf(sub)) && (t.member || t.channel)) this.node.announce(sub, t, true);
        }
        // Lost again meanwhile (the subscriber, say): not back yet; the next rejoin will be, when
        // the connection is ready again; when reaped, with the connection up, at once.
        if (this.dirty) return void (reaped && this.back());
      }
      if (this.down) this.log("[realtime] Redis is back: this node rejoined the cluster");
      this.down = false;
    } catch (err) {
      this.dirty = true;
      this.lost(err as Error);
      return;
    }
    await this.reapDead(dead);
  }

  private async beat() {
    if (!this.shared()) return;
    // A command that failed while the connection stayed up (a timeout) brings no "ready" event.
    if (this.dirty) return this.back();
    let known: number;
    let dead: string[];
    try {
      [known, dead] = await this.redis.rtHeartbeat(this.prefix, this.nodeId, this.ttlMs());
    } catch (err) {
      return this.lost(err as Error);
    }
    // Taken for dead (a heartbeat late past the TTL: a stalled process, a slow Redis) and reaped:
    // the others removed this node's share, so it writes it again, or its members stay gone.
    if (known === 0 && !this.dirty && this.rejoins === 0) {
      this.log("[realtime] this node was taken for dead by the others: rejoining the cluster");
      this.dirty = true;
      await this.back();
    }
    await this.reapDead(dead);
  }

  /** How long this node counts as alive after a heartbeat: ¾ TTL, as it renews every ¼. */
  private ttlMs() {
    return String(Math.round(this.config.nodeTtlSeconds * 750));
  }

  /** Reaps the nodes that stopped renewing their heartbeat. */
  private async reapDead(dead: string[]) {
    try {
      for (const id of dead) if (id !== this.nodeId) await this.reap(id);
    } catch (err) {
      this.lost(err as Error);
    }
  }

  /**
   * Takes a node's share out of the cluster. The script is atomic, so when two nodes reap the
   * same dead one, the second finds nothing left and announces nothing.
   */
  private async reap(nodeId: string) {
    return this.reaped(await this.redis.rtReap(this.prefix, nodeId), true);
  }

  /** What a reap emptied ({kind, channel, user}…), announced if asked; the members it removed. */
  private reaped(out: string[], announce: boolean) {
    const removed: Array<{ name: string; userId: string | null }> = [];
    for (let i = 0; i < out.length; i += 3) {
      const [kind, name = "", user = ""] = out.slice(i, i + 3);
      const change = { name, userId: kind === "m" ? user : null };
      if (kind === "m") removed.push(change);
      if (announce) this.node.announce(change, { channel: kind === "v", member: kind === "m" }, false);
    }
    return removed;
  }

  /**
   * Runs the queued commands in one MULTI: one round trip, and Redis runs them all together or,
   * when the connection drops before EXEC arrives, none. Their answers in order; any error throws.
   */
  private async atomically(queue: (multi: Queue) => void): Promise<unknown[]> {
    const multi = this.redis.multi() as unknown as Queue;
    queue(multi);
    const answers = await multi.exec();
    if (!answers) throw new Error("Redis transaction aborted");
    return answers.map(([err, answer]) => {
      if (err) throw err;
      return answer;
    });
  }

  /** Runs a shared operation, or answers for this node alone while Redis is away. */
  private async orLocal<T>(shared: () => Promise<T>, local: () => T): Promise<T> {
    if (this.stopped || !this.shared()) return local();
    try {
      return await shared();
    } catch (err) {
      this.lost(err as Error);
      return local();
    }
  }

  async broadcast(message: Broadcast) {
    const bus: BusMessage = { t: "e", c: message.channel, f: message.frame, x: message.exceptSocketId };
    await this.orLocal(
      async () => void (await this.redis.publish(`${this.prefix}bus`, JSON.stringify(bus))),
      () => this.node.deliver(message),
    );
  }

  private received(raw: string) {
    try {
      const message = JSON.parse(raw) as BusMessage;
      if (message.t === "e") this.node.deliver({ channel: message.c, frame: message.f, exceptSocketId: message.x });
      else if (message.t === "k") this.node.terminateLocal(message.u);
    } catch (err) {
      this.metrics.internalErrors++;
      this.log(`[realtime] bus message failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  joined(change: LocalChange) {
    return this.queue(true, change);
  }

  left(changes: LocalChange[]) {
    return Promise.all(changes.map((change) => this.queue(false, change)));
  }

  /**
   * Queues a join or leave. Those asked for while an earlier write is on its way wait for it
   * together and then go in one MULTI, in the order asked (a subscribe right after an unsubscribe
   * of the same channel lands after it), at most `redisBatch` at a time.
   */
  private queue(join: boolean, change: LocalChange) {
    return new Promise<Transitions>((done) => {
      if (!this.batch || this.batch.length >= this.config.redisBatch) {
        const batch: Change[] = [];
        this.inOrder(() => {
          if (this.batch === batch) this.batch = null;
          return this.write(batch);
        });
        this.batch = batch;
      }
      this.batch.push({ join, change, done });
    });
  }

  private async write(batch: Change[]) {
    const answers = await this.orLocal(
      async () =>
        (
          await this.atomically((multi) => {
            for (const { join, change: c } of batch) {
              if (join) multi.rtJoin(this.prefix, this.nodeId, c.name, c.userId ?? "", JSON.stringify(c.info ?? null));
              else multi.rtLeave(this.prefix, this.nodeId, c.name, c.userId ?? "");
            }
          })
        ).map(transitions),
      () => {
        this.dirty = true;
        return batch.map(({ change }) => change.local);
      },
    );
    for (const [i, { done }] of batch.entries()) done(answers[i] as Transitions);
  }

  members(name: string) {
    return this.orLocal(
      async () => {
        const all = await this.redis.hgetall(`${this.prefix}info:${name}`);
        return new Map(Object.entries(all).map(([id, info]) => [id, JSON.parse(info) as unknown]));
      },
      () => this.node.localMembers(name),
    );
  }

  counts(name: string) {
    return this.orLocal(
      async (): Promise<ChannelCounts> => {
        const [subs, users] = await this.redis
          .multi()
          .hget(`${this.prefix}subs`, name)
          .hlen(`${this.prefix}members:${name}`)
          .exec()
          .then((r) => (r ?? []).map(([err, v]) => (err ? 0 : Number(v ?? 0))));
        return { subscription_count: subs ?? 0, user_count: users ?? 0 };
      },
      () => this.node.localCounts(name),
    );
  }

  channels() {
    return this.orLocal(
      async () => {
        const subs = Object.entries(await this.redis.hgetall(`${this.prefix}subs`)).filter(([, n]) => Number(n) > 0);
        const presence = subs.filter(([name]) => channelKind(name) === "presence");
        const pipeline = this.redis.pipeline();
        for (const [name] of presence) pipeline.hlen(`${this.prefix}members:${name}`);
        const users = new Map(((await pipeline.exec()) ?? []).map(([, n], i) => [presence[i]?.[0], Number(n)]));
        return new Map(
          subs.map(([name, n]) => [name, { subscription_count: Number(n), user_count: users.get(name) ?? 0 }] as const),
        );
      },
      () => this.node.localChannels(),
    );
  }

  async terminate(userId: string) {
    const bus: BusMessage = { t: "k", u: userId };
    await this.orLocal(
      async () => void (await this.redis.publish(`${this.prefix}bus`, JSON.stringify(bus))),
      () => this.node.terminateLocal(userId),
    );
  }

  async remember(name: string, event: CachedEvent) {
    await this.orLocal(
      async () => {
        const ttl = Math.max(1, Math.round(this.config.cacheTtlSeconds * 1000));
        this.lastCacheSize = await this.redis.rtRemember(
          this.prefix,
          name,
          JSON.stringify(event),
          ttl,
          this.config.maxCacheChannels,
        );
      },
      () => {},
    );
  }

  cached(name: string) {
    return this.orLocal(
      async () => {
        const raw = await this.redis.get(`${this.prefix}cache:${name}`);
        return raw ? (JSON.parse(raw) as CachedEvent) : undefined;
      },
      () => undefined,
    );
  }

  cacheSize() {
    return this.lastCacheSize;
  }

  expireCache() {}
}

/** What rtJoin / rtLeave answer: {channel occupied or vacated, member added or removed}. */
function transitions(answer: unknown): Transitions {
  const [channel, member] = answer as [number, number];
  return { channel: channel === 1, member: member === 1 };
}
