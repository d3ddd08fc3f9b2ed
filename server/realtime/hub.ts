import { WebSocket } from "ws";
import type { RealtimeConfig } from "./config";
import type { Metrics } from "./metrics";
import { CODES, channelKind, closeWith, frame, isCacheChannel } from "./protocol";
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
type Channel = { name: string; conns: Set<Conn>; members: Map<string, Member> | null };
type CachedEvent = { event: string; data: string; at: number };

export const USER_CHANNEL_PREFIX = "#server-to-user-";

/**
 * Who is connected and subscribed where. All state of the server lives here, in memory, and all
 * of it is bounded: a channel exists only while it has subscribers, a connection joins at most
 * `maxChannelsPerConnection`, and the one thing that outlives its clients, the last event of a
 * `cache-` channel, expires after `cacheTtlSeconds` with at most `maxCacheChannels` kept.
 */
export class Hub {
  readonly conns = new Map<string, Conn>();
  readonly channels = new Map<string, Channel>();
  readonly users = new Map<string, Set<Conn>>();
  /** Oldest write first (an update moves an entry to the end), so expiry and eviction trim the front. */
  private readonly cache = new Map<string, CachedEvent>();

  constructor(
    readonly config: RealtimeConfig,
    readonly metrics: Metrics,
    readonly webhooks: Webhooks,
  ) {}

  /**
   * Back-pressure: a connection whose unsent data would pass `maxBufferedBytes` (a phone that
   * stopped reading) is dropped from every channel and closed with 4100 instead of queueing
   * more; pusher-js reconnects after a pause and the app catches up from the database.
   */
  send(conn: Conn, message: string) {
    if (conn.ws.readyState !== WebSocket.OPEN) return;
    if (conn.ws.bufferedAmount + Buffer.byteLength(message) > this.config.maxBufferedBytes) {
      this.metrics.overCapacity++;
      this.disconnect(conn);
      closeWith(conn.ws, CODES.overCapacity, "Over capacity");
      return;
    }
    conn.ws.send(message);
    this.metrics.messagesOut++;
  }

  /** Whether one more channel would pass the per-connection limit. */
  atChannelLimit(conn: Conn, name: string) {
    return !conn.channels.has(name) && conn.channels.size >= this.config.maxChannelsPerConnection;
  }

  /** Whether a user who is not yet a member would pass the presence channel's member limit. */
  presenceFull(name: string, userId: string) {
    const members = this.channels.get(name)?.members;
    return !!members && !members.has(userId) && members.size >= this.config.maxPresenceMembers;
  }

  /** Joins a channel. Returns whether this connection was already in it. */
  join(conn: Conn, name: string, presence?: { userId: string; info: unknown }) {
    let channel = this.channels.get(name);
    if (!channel) {
      channel = { name, conns: new Set(), members: channelKind(name) === "presence" ? new Map() : null };
      this.channels.set(name, channel);
    }
    if (channel.conns.has(conn)) return { channel, already: true };
    const wasEmpty = channel.conns.size === 0;
    channel.conns.add(conn);
    conn.channels.set(name, presence?.userId ?? null);
    if (wasEmpty) this.webhooks.add({ name: "channel_occupied", channel: name });

    if (presence && channel.members) {
      const member = channel.members.get(presence.userId);
      if (member) member.connections++;
      else {
        channel.members.set(presence.userId, { info: presence.info, connections: 1 });
        // A user's first connection is news to the others; their second tab is not.
        const added = frame(
          "pusher_internal:member_added",
          { user_id: presence.userId, user_info: presence.info },
          name,
        );
        for (const other of channel.conns) if (other !== conn) this.send(other, added);
        this.webhooks.add({ name: "member_added", channel: name, user_id: presence.userId });
      }
    }
    return { channel, already: false };
  }

  leave(conn: Conn, name: string) {
    const channel = this.channels.get(name);
    if (!channel?.conns.delete(conn)) return;
    const userId = conn.channels.get(name) ?? null;
    conn.channels.delete(name);
    if (userId && channel.members) {
      const member = channel.members.get(userId);
      if (member && --member.connections === 0) {
        channel.members.delete(userId);
        const removed = frame("pusher_internal:member_removed", { user_id: userId }, name);
        for (const other of channel.conns) this.send(other, removed);
        this.webhooks.add({ name: "member_removed", channel: name, user_id: userId });
      }
    }
    if (channel.conns.size === 0) {
      this.channels.delete(name);
      this.webhooks.add({ name: "channel_vacated", channel: name });
    }
  }

  disconnect(conn: Conn) {
    if (!this.conns.delete(conn.socketId)) return;
    for (const name of [...conn.channels.keys()]) this.leave(conn, name);
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
   * Fan-out: the frame is serialised once and that one string goes to every subscriber.
   * `exceptSocketId` leaves the publisher's own connection out.
   */
  publish(name: string, event: string, data: string, opts: { exceptSocketId?: string; userId?: string } = {}) {
    const message = frame(event, data, name, opts.userId ? { user_id: opts.userId } : undefined);
    if (isCacheChannel(name)) this.remember(name, event, data);
    const channel = this.channels.get(name);
    if (!channel) return;
    for (const conn of channel.conns) {
      if (conn.socketId !== opts.exceptSocketId) this.send(conn, message);
    }
  }

  /** The last event of a cache channel, for a new subscriber; undefined when none or expired. */
  cached(name: string): { event: string; data: string } | undefined {
    this.expireCache();
    return this.cache.get(name);
  }

  get cacheSize() {
    return this.cache.size;
  }

  private remember(name: string, event: string, data: string) {
    this.cache.delete(name);
    this.cache.set(name, { event, data, at: Date.now() });
    this.expireCache();
    for (const oldest of this.cache.keys()) {
      if (this.cache.size <= this.config.maxCacheChannels) break;
      this.cache.delete(oldest);
    }
  }

  /** Drops cache entries past their time to live (Pusher keeps them 30 minutes). */
  expireCache(now = Date.now()) {
    const oldestKept = now - this.config.cacheTtlSeconds * 1000;
    for (const [name, entry] of this.cache) {
      if (entry.at > oldestKept) break;
      this.cache.delete(name);
    }
  }

  presenceOf(name: string) {
    const members = this.channels.get(name)?.members;
    const ids = members ? [...members.keys()] : [];
    const hash = Object.fromEntries(ids.map((id) => [id, members?.get(id)?.info ?? null]));
    return { ids, hash, count: ids.length };
  }

  /** Channels with subscribers (what the HTTP API reports as occupied). */
  occupied() {
    return [...this.channels.values()].filter((c) => c.conns.size > 0);
  }

  info(name: string) {
    const channel = this.channels.get(name);
    return {
      occupied: (channel?.conns.size ?? 0) > 0,
      subscription_count: channel?.conns.size ?? 0,
      user_count: channel?.members?.size ?? 0,
    };
  }
}
