import { WebSocket } from "ws";
import {
  type Adapter,
  type Broadcast,
  type ChannelCounts,
  type Joined,
  LocalAdapter,
  type LocalChange,
  type LocalNode,
  type Transitions,
} from "./adapter";
import type { RealtimeConfig } from "./config";
import type { Metrics } from "./metrics";
import { CODES, channelKind, closeWith, frame, isCacheChannel } from "./protocol";
import { RecentKeys } from "./recent-keys";
import type { Webhooks } from "./webhooks";

export type Conn = {
  socketId: string;
  ws: WebSocket;
  /** Subscribed channels → the presence user id this connection joined as (if any). */
  channels: Map<string, string | null>;
  /** Set by pusher:signin. */
  userId: string | null;
  lastSeen: number;
  pingSentAt: number | null;
  eventTokens: number;
  tokensAt: number;
};

type Member = { info: unknown; connections: number };
/** A presence join the adapter has not yet accepted: the frames published to it meanwhile. */
type Held = { frames: Buffer[]; refused: boolean };
/**
 * `held`: presence subscribers whose join the adapter has not yet accepted (the member limit is
 * decided there), with the frames published to the channel meanwhile; sent once accepted, dropped
 * when refused, so a refused subscriber receives nothing of the channel.
 */
type Channel = {
  name: string;
  conns: Set<Conn>;
  members: Map<string, Member> | null;
  held: Map<Conn, Held> | null;
};

export const USER_CHANNEL_PREFIX = "#server-to-user-";

/** A Buffer is sent as a binary frame unless told; pusher-js drops those (a Blob in a browser). */
const TEXT = { binary: false } as const;

/**
 * Who is connected and subscribed where. This node's sockets live here, in memory, and all of
 * it is bounded: a channel exists only while it has subscribers here, and a connection joins at
 * most `maxChannelsPerConnection`. What other nodes could change — who else is subscribed, the
 * presence members, the last event of a `cache-` channel, delivery to their sockets — is asked
 * of the adapter (`local` = this process alone, `redis` = every node on one Redis).
 */
export class Hub {
  readonly conns = new Map<string, Conn>();
  readonly channels = new Map<string, Channel>();
  readonly users = new Map<string, Set<Conn>>();
  /** Keys of events published lately through the HTTP API (http-api.ts), so a retry is not sent twice. */
  readonly recentKeys: RecentKeys;
  /** Local until `start` swaps in the Redis adapter (loaded only then: ioredis costs start-up time). */
  adapter: Adapter;
  private readonly node: LocalNode;

  constructor(
    readonly config: RealtimeConfig,
    readonly metrics: Metrics,
    readonly webhooks: Webhooks,
    private readonly log: (msg: string) => void = () => {},
  ) {
    this.node = {
      deliver: (message: Broadcast) => this.deliver(message),
      terminateLocal: (userId: string) => this.terminateLocal(userId),
      localMembers: (name: string) => this.localMembers(name),
      localCounts: (name: string) => this.info(name),
      localChannels: () => new Map(this.occupied().map((c) => [c.name, this.info(c.name)] as const)),
      localSubscriptions: () => this.localSubscriptions(),
      announce: (change: { name: string; userId: string | null; info?: unknown }, t: Transitions, joined: boolean) =>
        this.announce(change, t, joined),
    };
    this.adapter = new LocalAdapter(this.node, config);
    this.recentKeys = new RecentKeys(config.idempotencyKeysKept, config.idempotencyKeyTtlSeconds * 1000);
  }

  /** Starts sharing state as configured (REALTIME_ADAPTER), before the first client connects. */
  async start() {
    if (this.config.adapter === "redis") {
      const { RedisAdapter } = await import("./redis-adapter");
      this.adapter = new RedisAdapter(this.node, this.config, this.log, this.metrics);
    }
    await this.adapter.start();
  }

  /**
   * Back-pressure: a connection whose unsent data would pass `maxBufferedBytes` (a phone that
   * stopped reading) is dropped from every channel and closed with 4100 instead of queueing
   * more; pusher-js reconnects after a pause and the app catches up from the database.
   */
  send(conn: Conn, message: string) {
    this.sendBytes(conn, message, Buffer.byteLength(message));
  }

  /** `send` for a message whose size is known: a fan-out measures its frame once, not per socket. */
  private sendBytes(conn: Conn, message: string | Buffer, bytes: number) {
    if (conn.ws.readyState !== WebSocket.OPEN) return;
    if (conn.ws.bufferedAmount + bytes > this.config.maxBufferedBytes) {
      this.metrics.overCapacity++;
      this.disconnect(conn);
      closeWith(conn.ws, CODES.overCapacity, "Over capacity");
      return;
    }
    conn.ws.send(message, TEXT);
    this.metrics.messagesOut++;
  }

  /** Whether one more channel would pass the per-connection limit. */
  atChannelLimit(conn: Conn, name: string) {
    return !conn.channels.has(name) && conn.channels.size >= this.config.maxChannelsPerConnection;
  }

  /**
   * Joins a channel on this node at once (so it receives what is published from now on), then
   * tells the adapter; `settled` resolves once the whole server knows, with member_added and
   * channel_occupied announced if this join made them. A presence join waits for the adapter's
   * word, which checks the member limit in the same step as it adds the member (two checks made
   * before either join let both in): held until then (`release`), undone here when refused.
   */
  join(
    conn: Conn,
    name: string,
    presence?: { userId: string; info: unknown },
  ): { channel: Channel; already: boolean; settled: Promise<Joined | undefined> } {
    let channel = this.channels.get(name);
    if (!channel) {
      const isPresence = channelKind(name) === "presence";
      channel = {
        name,
        conns: new Set(),
        members: isPresence ? new Map() : null,
        held: isPresence ? new Map() : null,
      };
      this.channels.set(name, channel);
    }
    if (channel.conns.has(conn)) return { channel, already: true, settled: Promise.resolve(undefined) };
    const local: Transitions = { channel: channel.conns.size === 0, member: false };
    channel.conns.add(conn);
    conn.channels.set(name, presence?.userId ?? null);
    const held: Held = { frames: [], refused: false };
    if (presence && channel.members && channel.held) {
      channel.held.set(conn, held);
      const member = channel.members.get(presence.userId);
      if (member) member.connections++;
      else {
        channel.members.set(presence.userId, { info: presence.info, connections: 1 });
        local.member = true;
      }
    }
    const change = { name, userId: presence?.userId ?? null, info: presence?.info, local };
    // A presence join brings back the members as of it: the subscriber's list, in the same round trip.
    const settled = this.adapter
      .joined(change, presence !== undefined)
      .then((t) => {
        // Refused: nothing was counted anywhere, so this node forgets it without a word.
        if (t.refused) {
          held.refused = true;
          this.dropLocal(conn, name);
        } else this.announce(change, t, true, conn.socketId);
        return t;
      })
      .catch((err) => void this.failed("join", err));
    return { channel, already: false, settled };
  }

  /** Sends a held subscriber what was published while its join was decided (after its subscription_succeeded). */
  release(conn: Conn, name: string) {
    const held = this.channels.get(name)?.held;
    const frames = held?.get(conn)?.frames;
    if (!held || !frames) return;
    held.delete(conn);
    for (const bytes of frames) this.sendBytes(conn, bytes, bytes.length);
  }

  leave(conn: Conn, name: string) {
    const change = this.dropLocal(conn, name);
    if (change) this.settleLeaves([change]);
  }

  /** Takes a connection out of a channel on this node; what that changed, for the adapter. */
  private dropLocal(conn: Conn, name: string): LocalChange | null {
    const channel = this.channels.get(name);
    if (!channel?.conns.delete(conn)) return null;
    channel.held?.delete(conn);
    const userId = conn.channels.get(name) ?? null;
    conn.channels.delete(name);
    const local: Transitions = { channel: false, member: false };
    if (userId && channel.members) {
      const member = channel.members.get(userId);
      if (member && --member.connections === 0) {
        channel.members.delete(userId);
        local.member = true;
      }
    }
    if (channel.conns.size === 0) {
      this.channels.delete(name);
      local.channel = true;
    }
    return { name, userId, local };
  }

  /** Tells the adapter of leaves in one request (a connection's every channel: one round trip to Redis). */
  private settleLeaves(changes: LocalChange[]) {
    void this.adapter
      .left(changes)
      .then((all) => {
        for (const [i, t] of all.entries()) this.announce(changes[i] as LocalChange, t, false);
      })
      .catch((err) => this.failed("leave", err));
  }

  /**
   * A user's first connection is news to the others (their second tab is not), and so is their
   * last leaving; a channel's first subscriber and its last are news to webhooks.
   */
  private announce(
    change: { name: string; userId: string | null; info?: unknown },
    t: Transitions,
    joined: boolean,
    exceptSocketId?: string,
  ) {
    const { name, userId } = change;
    if (joined && t.channel) this.webhooks.add({ name: "channel_occupied", channel: name });
    if (userId && t.member) {
      const event = joined ? "pusher_internal:member_added" : "pusher_internal:member_removed";
      const data = joined ? { user_id: userId, user_info: change.info ?? null } : { user_id: userId };
      void this.adapter.broadcast({ channel: name, frame: frame(event, data, name), exceptSocketId });
      this.webhooks.add({ name: joined ? "member_added" : "member_removed", channel: name, user_id: userId });
    }
    if (!joined && t.channel) this.webhooks.add({ name: "channel_vacated", channel: name });
  }

  private failed(what: string, err: unknown) {
    this.metrics.internalErrors++;
    this.log(`[realtime] ${what} failed: ${err instanceof Error ? err.message : String(err)}`);
  }

  disconnect(conn: Conn) {
    if (!this.conns.delete(conn.socketId)) return;
    const changes = [...conn.channels.keys()].flatMap((name) => this.dropLocal(conn, name) ?? []);
    if (changes.length > 0) this.settleLeaves(changes);
    if (conn.userId) {
      const set = this.users.get(conn.userId);
      set?.delete(conn);
      if (set?.size === 0) this.users.delete(conn.userId);
    }
  }

  signIn(conn: Conn, userId: string) {
    conn.userId = userId;
    let set = this.users.get(userId);
    if (!set) {
      set = new Set();
      this.users.set(userId, set);
    }
    set.add(conn);
  }

  /**
   * Publishes to the channel's subscribers on every node. The frame is serialised once and
   * that one string goes to every subscriber; `exceptSocketId` leaves the publisher's own
   * connection out. Resolves once the event is on its way to every node.
   */
  publish(name: string, event: string, data: string, opts: { exceptSocketId?: string; userId?: string } = {}) {
    const message = frame(event, data, name, opts.userId ? { user_id: opts.userId } : undefined);
    const remembered = isCacheChannel(name) ? this.adapter.remember(name, { event, data }) : undefined;
    const sent = this.adapter.broadcast({ channel: name, frame: message, exceptSocketId: opts.exceptSocketId });
    return remembered ? Promise.all([remembered, sent]).then(() => {}) : sent;
  }

  /**
   * Fan-out to this node's subscribers. The frame is encoded to bytes once and that one Buffer
   * goes to every socket (ws writes it as it is): `ws.send(string)` measured the string and
   * copied it into each socket's write, once per subscriber (issue 11). Each socket still gets
   * the back-pressure check.
   */
  deliver({ channel: name, frame: message, exceptSocketId }: Broadcast) {
    const channel = this.channels.get(name);
    if (!channel) return;
    const bytes = Buffer.from(message);
    const held = channel.held?.size ? channel.held : null;
    for (const conn of channel.conns) {
      if (conn.socketId === exceptSocketId) continue;
      const waiting = held?.get(conn);
      if (waiting) waiting.frames.push(bytes);
      else this.sendBytes(conn, bytes, bytes.length);
    }
  }

  /** Ends a user's connections on every node (HTTP API terminate_connections). */
  terminate(userId: string) {
    return this.adapter.terminate(userId);
  }

  terminateLocal(userId: string) {
    for (const conn of this.users.get(userId) ?? []) {
      closeWith(conn.ws, CODES.unauthorized, "Connection terminated by the server");
    }
  }

  /** The last event of a cache channel, for a new subscriber; undefined when none or expired. */
  cached(name: string) {
    return this.adapter.cached(name);
  }

  get cacheSize() {
    return this.adapter.cacheSize();
  }

  expireCache(now = Date.now()) {
    this.adapter.expireCache(now);
  }

  /** The presence members of the whole server, as subscription_succeeded carries them. */
  async presence(name: string, members?: Map<string, unknown>) {
    return presenceData(members ?? (await this.adapter.members(name)));
  }

  /** This node's presence members. */
  presenceOf(name: string) {
    return presenceData(this.localMembers(name));
  }

  private localMembers(name: string) {
    const members = this.channels.get(name)?.members;
    return new Map([...(members ?? [])].map(([id, m]) => [id, m.info] as const));
  }

  private localSubscriptions() {
    const out: ReturnType<LocalNode["localSubscriptions"]> = [];
    for (const channel of this.channels.values()) {
      for (const conn of channel.conns) {
        const userId = conn.channels.get(channel.name) ?? null;
        const info = userId ? channel.members?.get(userId)?.info : undefined;
        const held = channel.held?.get(conn);
        out.push(
          held
            ? { name: channel.name, userId, info, stands: () => !held.refused }
            : { name: channel.name, userId, info },
        );
      }
    }
    return out;
  }

  /** Channels with subscribers on this node. */
  occupied() {
    return [...this.channels.values()].filter((c) => c.conns.size > 0);
  }

  /** This node's counts for a channel (the HTTP API asks `adapter.counts` for the whole server's). */
  info(name: string): ChannelCounts & { occupied: boolean } {
    const channel = this.channels.get(name);
    return {
      occupied: (channel?.conns.size ?? 0) > 0,
      subscription_count: channel?.conns.size ?? 0,
      user_count: channel?.members?.size ?? 0,
    };
  }
}

function presenceData(members: Map<string, unknown>) {
  const ids = [...members.keys()];
  const hash = Object.fromEntries(ids.map((id) => [id, members.get(id) ?? null]));
  return { ids, hash, count: ids.length };
}
