import { WebSocket } from "ws";
import type { RealtimeConfig } from "./config";
import type { Metrics } from "./metrics";
import { channelKind, frame, isCacheChannel } from "./protocol";
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
type Channel = { name: string; conns: Set<Conn>; members: Map<string, Member> | null; lastEvent: string | null };

export const USER_CHANNEL_PREFIX = "#server-to-user-";

/** Who is connected and subscribed where. All state of the server lives here, in memory. */
export class Hub {
  readonly conns = new Map<string, Conn>();
  readonly channels = new Map<string, Channel>();
  readonly users = new Map<string, Set<Conn>>();

  constructor(
    readonly config: RealtimeConfig,
    readonly metrics: Metrics,
    readonly webhooks: Webhooks,
  ) {}

  send(conn: Conn, message: string) {
    if (conn.ws.readyState !== WebSocket.OPEN) return;
    conn.ws.send(message);
    this.metrics.messagesOut++;
  }

  /** Joins a channel. Returns whether this connection was already in it. */
  join(conn: Conn, name: string, presence?: { userId: string; info: unknown }) {
    let channel = this.channels.get(name);
    if (!channel) {
      channel = {
        name,
        conns: new Set(),
        members: channelKind(name) === "presence" ? new Map() : null,
        lastEvent: null,
      };
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
      // Cache channels keep their last event for the next subscriber.
      if (!isCacheChannel(name)) this.channels.delete(name);
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
    const channel = this.channels.get(name);
    if (isCacheChannel(name)) {
      if (channel) channel.lastEvent = JSON.stringify({ event, data });
      else
        this.channels.set(name, { name, conns: new Set(), members: null, lastEvent: JSON.stringify({ event, data }) });
    }
    if (!channel) return;
    for (const conn of channel.conns) {
      if (conn.socketId !== opts.exceptSocketId) this.send(conn, message);
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
