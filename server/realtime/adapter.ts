import type { RealtimeConfig } from "./config";

/** A frame for a channel's subscribers on every node; the publisher's own socket left out. */
export type Broadcast = { channel: string; frame: string; exceptSocketId?: string };

/**
 * What a join or leave changed for the whole server: the channel became occupied / vacated,
 * the user became a member / stopped being one. The hub turns these into member events and
 * webhooks, so each is announced once however many nodes there are.
 */
export type Transitions = { channel: boolean; member: boolean };

/**
 * A join's transitions and, when asked, the channel's members right after it (user id → info).
 * `refused`: a new member of a presence channel already at `maxPresenceMembers`; nothing of the
 * join was counted (the hub undoes its own share of it).
 */
export type Joined = Transitions & { members?: Map<string, unknown>; refused?: boolean };

export type ChannelCounts = { subscription_count: number; user_count: number };
export type CachedEvent = { event: string; data: string };

/** The node's own view of a channel, handed to the adapter with each join and leave. */
export type LocalChange = { name: string; userId: string | null; info?: unknown; local: Transitions };

/** What an adapter calls back into: the sockets of this node. */
export type LocalNode = {
  /** Sends a frame to this node's subscribers of the channel. */
  deliver(message: Broadcast): void;
  /** Closes this node's connections of a user. */
  terminateLocal(userId: string): void;
  /** This node's presence members of a channel (user id → info). */
  localMembers(name: string): Map<string, unknown>;
  localCounts(name: string): ChannelCounts;
  localChannels(): Map<string, ChannelCounts>;
  /**
   * Every (channel, user or null) this node holds a subscription for, one entry per connection.
   * `stands`, on a presence join the adapter has yet to answer: whether it still does when asked
   * later (false once refused for the member limit).
   */
  localSubscriptions(): Array<{ name: string; userId: string | null; info: unknown; stands?: () => boolean }>;
  /** Announces what a node that died or rejoined changed (member events, webhooks). */
  announce(
    change: { name: string; userId: string | null; info?: unknown },
    transitions: Transitions,
    joined: boolean,
  ): void;
};

/**
 * The shared state of the realtime server, as soketi keeps it behind `src/adapters/*`: the
 * hub keeps this node's sockets and asks the adapter about everything another node could
 * change. `local` answers from this process (one node, today's behaviour); `redis` answers for
 * every node on one Redis. Methods never reject: an adapter that cannot reach what it shares
 * answers for this node alone.
 */
export interface Adapter {
  readonly kind: "local" | "redis";
  start(): Promise<void>;
  stop(): Promise<void>;
  /** null when there is nothing to share; otherwise whether the shared store is reachable now. */
  shared(): boolean | null;
  broadcast(message: Broadcast): Promise<void>;
  /**
   * With `withMembers`, also the channel's members as of this join: a presence subscribe's list.
   * A new member past `maxPresenceMembers` is refused in the same step as members are added, so
   * two at once never both pass; another connection of a member never is.
   */
  joined(change: LocalChange, withMembers?: boolean): Promise<Joined>;
  /** Leaves in one go (all of a connection's channels when it goes), answered in their order. */
  left(changes: LocalChange[]): Promise<Transitions[]>;
  members(name: string): Promise<Map<string, unknown>>;
  counts(name: string): Promise<ChannelCounts>;
  channels(): Promise<Map<string, ChannelCounts>>;
  terminate(userId: string): Promise<void>;
  remember(name: string, event: CachedEvent): Promise<void>;
  cached(name: string): Promise<CachedEvent | undefined>;
  /** Cache entries held (for /metrics); the redis adapter reports the count at its last write. */
  cacheSize(): number;
  /** Drops expired cache entries now (the local adapter's sweep; Redis expires keys itself). */
  expireCache(now?: number): void;
}

/**
 * Answers joins from this node's own state (the local adapter; the redis adapter while Redis is
 * away), in their order. The hub has added each join's member already, so the members before the
 * first new one are the channel's less the new ones asked for here; a new one past the limit is
 * refused and left out of the lists the others get.
 */
export function joinedHere(
  node: LocalNode,
  joins: Array<{ change: LocalChange; withMembers: boolean }>,
  limit: number,
) {
  const isNew = ({ change }: { change: LocalChange }) => change.userId !== null && change.local.member;
  const counts = new Map<string, number>();
  for (const { change } of joins.filter(isNew)) counts.set(change.name, (counts.get(change.name) ?? 0) + 1);
  for (const name of counts.keys()) counts.set(name, node.localCounts(name).user_count - (counts.get(name) ?? 0));
  const refused = joins.map((join) => {
    if (!isNew(join)) return false;
    const members = counts.get(join.change.name) ?? 0;
    if (members >= limit) return true;
    counts.set(join.change.name, members + 1);
    return false;
  });
  return joins.map(({ change, withMembers }, i): Joined => {
    if (refused[i]) return { channel: false, member: false, refused: true };
    if (!withMembers) return change.local;
    const members = node.localMembers(change.name);
    for (const [j, other] of joins.entries())
      if (refused[j] && other.change.name === change.name) members.delete(other.change.userId ?? "");
    return { ...change.local, members };
  });
}

/**
 * One node: the answers are this process's own. The last event of each `cache-` channel is
 * kept in memory, oldest write first (an update moves an entry to the end), so expiry and
 * eviction trim the front.
 */
export class LocalAdapter implements Adapter {
  readonly kind = "local";
  private readonly cache = new Map<string, CachedEvent & { at: number }>();

  constructor(
    private readonly node: LocalNode,
    private readonly config: Pick<RealtimeConfig, "cacheTtlSeconds" | "maxCacheChannels" | "maxPresenceMembers">,
  ) {}

  async start() {}
  async stop() {}
  shared() {
    return null;
  }
  async broadcast(message: Broadcast) {
    this.node.deliver(message);
  }
  async joined(change: LocalChange, withMembers = false): Promise<Joined> {
    return joinedHere(this.node, [{ change, withMembers }], this.config.maxPresenceMembers)[0] as Joined;
  }
  async left(changes: LocalChange[]) {
    return changes.map((change) => change.local);
  }
  async members(name: string) {
    return this.node.localMembers(name);
  }
  async counts(name: string) {
    return this.node.localCounts(name);
  }
  async channels() {
    return this.node.localChannels();
  }
  async terminate(userId: string) {
    this.node.terminateLocal(userId);
  }
  async remember(name: string, event: CachedEvent) {
    this.cache.delete(name);
    this.cache.set(name, { ...event, at: Date.now() });
    this.expireCache();
    for (const oldest of this.cache.keys()) {
      if (this.cache.size <= this.config.maxCacheChannels) break;
      this.cache.delete(oldest);
    }
  }
  async cached(name: string) {
    this.expireCache();
    const entry = this.cache.get(name);
    return entry && { event: entry.event, data: entry.data };
  }
  cacheSize() {
    return this.cache.size;
  }
  /** Drops cache entries past their time to live (Pusher keeps them 30 minutes). */
  expireCache(now = Date.now()) {
    const oldestKept = now - this.config.cacheTtlSeconds * 1000;
    for (const [name, entry] of this.cache) {
      if (entry.at > oldestKept) break;
      this.cache.delete(name);
    }
  }
}
