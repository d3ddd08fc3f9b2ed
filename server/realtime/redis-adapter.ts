import { randomUUID } from "node:crypto";
import { type ChainableCommander, Redis } from "ioredis";
import {
  type Adapter,
  type Broadcast,
  type CachedEvent,
  type ChannelCounts,
  type Joined,
  joinedHere,
  type LocalChange,
  type LocalNode,
  type Transitions,
} from "./adapter";
import type { RealtimeConfig } from "./config";
import type { Metrics } from "./metrics";
import { channelKind } from "./protocol";

/*
 * Keys, under the prefix (`{p}`), for every node of one app:
 *   {p}nodes                  zset  node id or "gone:{uuid}" → when it counts as dead (ms, Redis' clock)
 *   {p}subs                   hash  channel → subscriptions on all nodes
 *   {p}members:{channel}      hash  user id → that user's connections on all nodes
 *   {p}info:{channel}         hash  user id → user_info JSON
 *   {p}node:{id}:subs         hash  channel → this node's share of {p}subs
 *   {p}node:{id}:members      hash  "{channel}\n{user id}" → this node's share of members
 *   {p}gone:{uuid}:subs       hash  a share moved aside to be taken out (a "grave", below)
 *   {p}gone:{uuid}:members    hash  the same for members
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

/*
 * A node's old share, when it goes (reaped, stopped) or rejoins, is first moved aside whole (RENAME:
 * O(1)) into a "grave" `{p}gone:{uuid}:subs` / `:members`, then taken out of the counts
 * `redisBatch` entries per call (DRAIN), so no one call holds Redis for all of it. A grave sits in
 * `{p}nodes` with a deadline like a node's: whoever drains it renews it, and when its drainer dies
 * half-way, the others find it past its time and finish it. Each DRAIN pops its entries, so two
 * drainers never take one out twice.
 * A rejoin moves its old share aside first, writes the current one, and only then drains the old:
 * a join of what the old share held takes that entry over from the grave (the cluster counted it
 * already) instead of adding it again. So between a rejoin's MULTIs the others see, for every
 * channel and member this node held before and holds still, the counts they saw before: members
 * never go and come back, and counts never pass the truth (but for a rejoin cut short and started
 * over: what the older grave still holds counts twice until the next one drains it at its end). What
 * the node left while away goes when the grave is drained, at the end; what it joined while away
 * arrives chunk by chunk.
 */

/**
 * Adds a subscription (and its member); ARGV[6] a grave to take it over from, ARGV[7] '1' to answer
 * the channel's members too (a presence subscribe's list, in the same round trip as its join).
 * ARGV[8], when given, is the member limit: a user not yet a member of a channel that has that many
 * is refused here, before anything is written ({0, 0, {}, 1}), so the check and the add are one
 * step for the whole cluster. A rejoin gives none: it brings back members the cluster had.
 */
const JOIN = `
local p, node, ch, user, info, grave, want = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6], ARGV[7]
local limit = tonumber(ARGV[8] or '')
if limit and user ~= '' and redis.call('HEXISTS', p..'members:'..ch, user) == 0
  and redis.call('HLEN', p..'members:'..ch) >= limit then
  return {0, 0, {}, 1}
end
local function takeOver(key, field)
  if grave == '' or tonumber(redis.call('HGET', key, field) or '0') <= 0 then return false end
  if redis.call('HINCRBY', key, field, -1) <= 0 then redis.call('HDEL', key, field) end
  return true
end
local first = 0
if not takeOver(p..grave..':subs', ch) then
  first = redis.call('HINCRBY', p..'subs', ch, 1) == 1 and 1 or 0
end
redis.call('HINCRBY', p..'node:'..node..':subs', ch, 1)
local added = 0
if user ~= '' then
  if not takeOver(p..grave..':members', ch..'\\n'..user) and redis.call('HINCRBY', p..'members:'..ch, user, 1) == 1 then
    added = 1
    redis.call('HSET', p..'info:'..ch, user, info)
  end
  redis.call('HINCRBY', p..'node:'..node..':members', ch..'\\n'..user, 1)
end
if want == '1' then return {first, added, redis.call('HGETALL', p..'info:'..ch)} end
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

const NOW = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)`;

/**
 * Unregisters node ARGV[2] and moves its share aside into grave ARGV[3] (registered until now +
 * ARGV[4] ms); 1 if there was a share to drain. A second reaper of the same node finds none.
 */
const REAP = `
local p, node, grave, ttl = ARGV[1], ARGV[2], ARGV[3], tonumber(ARGV[4])
${NOW}
redis.call('ZREM', p..'nodes', node)
local moved = 0
for _, kind in ipairs({'subs', 'members'}) do
  local share = p..'node:'..node..':'..kind
  if redis.call('EXISTS', share) == 1 then
    redis.call('RENAME', share, p..grave..':'..kind)
    moved = 1
  end
end
if moved == 1 then redis.call('ZADD', p..'nodes', now + ttl, grave) end
return moved`;

/**
 * Takes at most ARGV[3] entries of grave ARGV[2] out of the counts; returns {entries left, what
 * that emptied: {kind, channel, user}…} and renews the grave's deadline (gone when drained).
 */
const DRAIN = `
local p, grave, most, ttl = ARGV[1], ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
${NOW}
local out = {}
local graveSubs, graveMembers = p..grave..':subs', p..grave..':members'
local subs = redis.call('HRANDFIELD', graveSubs, most, 'WITHVALUES')
for i = 1, #subs, 2 do
  local ch = subs[i]
  redis.call('HDEL', graveSubs, ch)
  if redis.call('HINCRBY', p..'subs', ch, -tonumber(subs[i + 1])) <= 0 then
    redis.call('HDEL', p..'subs', ch)
    table.insert(out, 'v') table.insert(out, ch) table.insert(out, '')
  end
end
local members = {}
if most > #subs / 2 then members = redis.call('HRANDFIELD', graveMembers, most - #subs / 2, 'WITHVALUES') end
for i = 1, #members, 2 do
  local field = members[i]
  redis.call('HDEL', graveMembers, field)
  local cut = string.find(field, '\\n', 1, true)
  local ch, user = string.sub(field, 1, cut - 1), string.sub(field, cut + 1)
  if redis.call('HINCRBY', p..'members:'..ch, user, -tonumber(members[i + 1])) <= 0 then
    redis.call('HDEL', p..'members:'..ch, user)
    redis.call('HDEL', p..'info:'..ch, user)
    table.insert(out, 'm') table.insert(out, ch) table.insert(out, user)
  end
end
local left = redis.call('HLEN', graveSubs) + redis.call('HLEN', graveMembers)
if left == 0 then redis.call('ZREM', p..'nodes', grave) else redis.call('ZADD', p..'nodes', now + ttl, grave) end
return {left, out}`;

/**
 * Marks node ARGV[2] alive until now + ARGV[3] ms, and its graves still being drained (ARGV[5]…),
 * if they are there; returns whether the node was registered (0: never, or reaped by another node)
 * and the nodes and graves whose time has passed. With ARGV[4] '1' (a rejoin's later MULTIs) it
 * renews nothing when the node is not registered: another node reaped it meanwhile.
 */
const HEARTBEAT = `
local p, node, ttl, mustBeKnown = ARGV[1], ARGV[2], tonumber(ARGV[3]), ARGV[4] == '1'
local known = redis.call('ZSCORE', p..'nodes', node) and 1 or 0
if mustBeKnown and known == 0 then return {0, {}} end
${NOW}
redis.call('ZADD', p..'nodes', now + ttl, node)
for i = 5, #ARGV do redis.call('ZADD', p..'nodes', 'XX', now + ttl, ARGV[i]) end
return {known, redis.call('ZRANGEBYSCORE', p..'nodes', '-inf', now)}`;

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
};

/** A join or leave waiting for its turn to be written; `done` gets what it changed (and the members, if asked). */
type Change = { join: boolean; change: LocalChange; withMembers: boolean; done: (t: Joined) => void };

type Commands = Redis & {
  rtJoin(...args: string[]): Promise<[number, number]>;
  rtLeave(...args: string[]): Promise<[number, number]>;
  rtReap(...args: string[]): Promise<number>;
  rtDrain(...args: string[]): Promise<[number, string[]]>;
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
  /** This node's old shares moved aside by its rejoins and not yet drained (see "grave" above). */
  private graves: string[] = [];

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
      rtDrain: DRAIN,
      rtHeartbeat: HEARTBEAT,
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
   * The first MULTI moves the old share aside, renews the heartbeat and writes the first
   * `redisBatch` subscriptions; each next one renews the heartbeat (only if no other node reaped
   * this one meanwhile) and writes the next. Each join takes over what the old share held of it, so
   * the others never see a member this node still holds go. Once the share is whole, the old ones
   * are drained: what they still hold left while the node was away. Cut short, the rejoin stops and
   * the next starts over; the old shares wait for the next one's end.
   */
  private async rejoin(listed: ReturnType<LocalNode["localSubscriptions"]>) {
    // A presence join listed before its own write was answered: that write (before this one) may
    // have refused it for the member limit, and then the node dropped it without a leave.
    const subscriptions = listed.filter((sub) => sub.stands?.() ?? true);
    const size = this.config.redisBatch;
    const grave = `gone:${randomUUID()}`;
    let dead: string[] = [];
    try {
      for (let from = 0; from === 0 || from < subscriptions.length; from += size) {
        const chunk = subscriptions.slice(from, from + size);
        const answers = await this.atomically((multi) => {
          if (from === 0) multi.rtReap(this.prefix, this.nodeId, grave, this.ttlMs());
          multi.rtHeartbeat(this.prefix, this.nodeId, this.ttlMs(), from === 0 ? "0" : "1", ...this.graves);
          for (const sub of chunk) {
            const info = JSON.stringify(sub.info ?? null);
            multi.rtJoin(this.prefix, this.nodeId, sub.name, sub.userId ?? "", info, grave, "0");
          }
        });
        if (from === 0 && answers.shift() === 1) this.graves.push(grave);
        const [known, expired] = answers.shift() as [number, string[]];
        if (from === 0) dead = expired;
        else if (known !== 1) this.dirty = true; // reaped between two MULTIs: start over (below)
        for (const [i, sub] of chunk.entries()) {
          // Members others saw leave while we were away (or never saw) are news; the rest never left.
          const t = transitions(answers[i]);
          if (t.member || t.channel) this.node.announce(sub, t, true);
        }
        // Lost again meanwhile (the subscriber, say): not back yet; the next rejoin will be, when
        // the connection is ready again; when reaped, with the connection up, at once.
        if (this.dirty) return void (known !== 1 && from > 0 && this.back());
      }
      // The channels that emptied were announced by this node while it was away; the members were
      // told to its own sockets only.
      for (const old of [...this.graves]) {
        await this.drain(old, (change, t) => t.member && this.node.announce(change, t, false));
        this.graves = this.graves.filter((g) => g !== old);
      }
      if (this.dirty) return;
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
      [known, dead] = await this.redis.rtHeartbeat(this.prefix, this.nodeId, this.ttlMs(), "0", ...this.graves);
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

  /** Reaps the nodes that stopped renewing their heartbeat, and finishes graves whose drainer did. */
  private async reapDead(dead: string[]) {
    try {
      for (const id of dead) {
        if (id.startsWith("gone:")) await this.drain(id, (change, t) => this.node.announce(change, t, false));
        else if (id !== this.nodeId) await this.reap(id);
      }
    } catch (err) {
      this.lost(err as Error);
    }
  }

  /**
   * Takes a node's share out of the cluster: moved aside at once, then drained `redisBatch` at a
   * time. When two nodes reap the same dead one, the second finds nothing to move.
   */
  private async reap(nodeId: string) {
    const grave = `gone:${randomUUID()}`;
    if ((await this.redis.rtReap(this.prefix, nodeId, grave, this.ttlMs())) === 1) {
      await this.drain(grave, (change, t) => this.node.announce(change, t, false));
    }
  }

  /** Drains a grave, `redisBatch` entries per call, telling `emptied` what each call emptied. */
  private async drain(
    grave: string,
    emptied: (change: { name: string; userId: string | null }, t: Transitions) => void,
  ) {
    const most = String(this.config.redisBatch);
    for (let left = 1; left > 0; ) {
      const [rest, out] = await this.redis.rtDrain(this.prefix, grave, most, this.ttlMs());
      left = rest;
      for (let i = 0; i < out.length; i += 3) {
        const [kind, name = "", user = ""] = out.slice(i, i + 3);
        emptied({ name, userId: kind === "m" ? user : null }, { channel: kind === "v", member: kind === "m" });
      }
    }
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
  private async orLocal<T>(shared: () => Promise<T>, local: () => T, whileStopping = false): Promise<T> {
    if ((this.stopped && !whileStopping) || !this.shared()) return local();
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
      // A stopping node's last member_removed (its connections' leaves, its share) are the cluster's.
      true,
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

  joined(change: LocalChange, withMembers = false) {
    return this.queue(true, change, withMembers);
  }

  left(changes: LocalChange[]) {
    return Promise.all(changes.map((change) => this.queue(false, change, false)));
  }

  /**
   * Queues a join or leave. Those asked for while an earlier write is on its way wait for it
   * together and then go in one MULTI, in the order asked (a subscribe right after an unsubscribe
   * of the same channel lands after it), at most `redisBatch` at a time.
   */
  private queue(join: boolean, change: LocalChange, withMembers: boolean) {
    return new Promise<Joined>((done) => {
      if (!this.batch || this.batch.length >= this.config.redisBatch) {
        const batch: Change[] = [];
        this.inOrder(() => {
          if (this.batch === batch) this.batch = null;
          return this.write(batch);
        });
        this.batch = batch;
      }
      this.batch.push({ join, change, withMembers, done });
    });
  }

  private async write(batch: Change[]) {
    const limit = String(this.config.maxPresenceMembers);
    const answers = await this.orLocal(
      async () =>
        (
          await this.atomically((multi) => {
            for (const { join, change: c, withMembers } of batch) {
              const info = JSON.stringify(c.info ?? null);
              const want = withMembers ? "1" : "0";
              if (join) multi.rtJoin(this.prefix, this.nodeId, c.name, c.userId ?? "", info, "", want, limit);
              else multi.rtLeave(this.prefix, this.nodeId, c.name, c.userId ?? "");
            }
          })
        ).map(transitions),
      () => {
        this.dirty = true;
        const joined = joinedHere(
          this.node,
          batch.filter((c) => c.join),
          this.config.maxPresenceMembers,
        );
        let next = 0;
        return batch.map(({ join, change }): Joined => (join ? (joined[next++] as Joined) : change.local));
      },
    );
    for (const [i, { done }] of batch.entries()) done(answers[i] as Joined);
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

/**
 * What rtJoin / rtLeave answer: {channel occupied or vacated, member added or removed}, and for a
 * join that asked, the channel's members (user id, user_info JSON…); a refused join, a 1 after them.
 */
function transitions(answer: unknown): Joined {
  const [channel, member, members, refused] = answer as [number, number, string[] | undefined, number | undefined];
  if (refused === 1) return { channel: false, member: false, refused: true };
  const t = { channel: channel === 1, member: member === 1 };
  if (!members) return t;
  const map = new Map<string, unknown>();
  for (let i = 0; i < members.length; i += 2) map.set(members[i] ?? "", JSON.parse(members[i + 1] ?? "null"));
  return { ...t, members: map };
}
