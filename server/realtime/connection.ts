import type { Conn, Hub } from "./hub";
import { USER_CHANNEL_PREFIX } from "./hub";
import {
  CODES,
  channelKind,
  closeWith,
  errorFrame,
  frame,
  isCacheChannel,
  isValidChannelName,
  MAX_CHANNEL_NAME,
  MAX_USER_ID,
  MAX_USER_INFO_BYTES,
} from "./protocol";
import { channelAuth, safeEqual, userAuth } from "./signature";

type Incoming = { event?: unknown; channel?: unknown; data?: unknown };

/**
 * Handles one WebSocket message from a client. Every message is our own fixed text: nothing a
 * client sends is echoed back except the channel name a subscription answer must carry.
 * A subscription that must ask the adapter (presence, cache) returns a promise; the server
 * holds the connection's next messages until it settles, so they are handled in order.
 */
export function handleMessage(
  hub: Hub,
  conn: Conn,
  raw: Buffer | ArrayBuffer | Buffer[],
  isBinary: boolean,
): void | Promise<void> {
  hub.metrics.messagesIn++;
  conn.lastSeen = Date.now();
  conn.pingSentAt = null;
  if (isBinary) return hub.send(conn, errorFrame(null, "Binary frames are not supported; send JSON text"));
  const size = Array.isArray(raw) ? raw.reduce((n, b) => n + b.length, 0) : raw.byteLength;
  if (size > hub.config.maxFrameBytes) {
    return hub.send(conn, errorFrame(null, "Message too large"));
  }
  let message: Incoming;
  try {
    const text = Array.isArray(raw)
      ? Buffer.concat(raw).toString("utf8")
      : Buffer.from(raw as ArrayBuffer).toString("utf8");
    message = JSON.parse(text);
    if (!message || typeof message !== "object" || typeof message.event !== "string") throw new Error("no event");
  } catch {
    return hub.send(conn, errorFrame(null, "Invalid message: expected JSON with an event name"));
  }
  const data = typeof message.data === "string" ? safeJson(message.data) : message.data;

  switch (message.event) {
    case "pusher:ping":
      return hub.send(conn, frame("pusher:pong", {}));
    case "pusher:pong":
      return;
    case "pusher:subscribe":
      return subscribe(hub, conn, asRecord(data));
    case "pusher:unsubscribe": {
      const channel = asRecord(data).channel;
      if (typeof channel === "string") hub.leave(conn, channel);
      return;
    }
    case "pusher:signin":
      return signIn(hub, conn, asRecord(data));
    default:
      if (message.event.startsWith("client-"))
        return clientEvent(hub, conn, message.event, message.channel, message.data);
      return hub.send(conn, errorFrame(null, "Unknown event"));
  }
}

function subscribe(hub: Hub, conn: Conn, data: Record<string, unknown>): void | Promise<void> {
  const name = data.channel;
  const fail = (error: string, status = 401, type = "AuthError") =>
    sendSubscriptionError(hub, conn, name, error, status, type);
  const limitReached = (error: string) => sendSubscriptionError(hub, conn, name, error);
  if (typeof name === "string" && hub.atChannelLimit(conn, name)) {
    return limitReached(`At most ${hub.config.maxChannelsPerConnection} channels per connection`);
  }

  if (typeof name === "string" && name.startsWith(USER_CHANNEL_PREFIX)) {
    // pusher-js subscribes to its user's private feed after pusher:signin.
    if (!conn.userId || name !== `${USER_CHANNEL_PREFIX}${conn.userId}`) return fail("Sign in as this user first");
    hub.join(conn, name);
    return hub.send(conn, frame("pusher_internal:subscription_succeeded", {}, name));
  }
  if (!isValidChannelName(name)) {
    return fail(`Invalid channel name: 1–${MAX_CHANNEL_NAME} characters of A-Z a-z 0-9 _ - = @ , . ;`, 400);
  }

  const kind = channelKind(name);
  let presence: { userId: string; info: unknown } | undefined;
  if (kind !== "public") {
    const auth = typeof data.auth === "string" ? data.auth : "";
    const channelData =
      kind === "presence" ? (typeof data.channel_data === "string" ? data.channel_data : "") : undefined;
    const expected = channelAuth(hub.config.key, hub.config.secret, conn.socketId, name, channelData);
    if (!auth || !safeEqual(auth, expected)) return fail(auth ? "Invalid signature" : "Missing auth");
    if (kind === "presence") {
      const member = asRecord(safeJson(channelData ?? ""));
      const userId = typeof member.user_id === "number" ? String(member.user_id) : member.user_id;
      if (typeof userId !== "string" || !userId) return fail("channel_data must carry a user_id", 400);
      if (userId.length > MAX_USER_ID) return limitReached(`user_id is limited to ${MAX_USER_ID} characters`);
      const info = member.user_info ?? null;
      const infoJson = safeStringify(info);
      if (infoJson === undefined || Buffer.byteLength(infoJson) > MAX_USER_INFO_BYTES) {
        return limitReached(`user_info is limited to ${MAX_USER_INFO_BYTES} bytes`);
      }
      presence = { userId, info };
    }
  }
  if (!presence && !isCacheChannel(name)) {
    hub.join(conn, name);
    return hub.send(conn, frame("pusher_internal:subscription_succeeded", {}, name));
  }
  return subscribeShared(hub, conn, name, presence);
}

/** Presence and cache channels answer with what the whole server knows: ask the adapter. */
async function subscribeShared(hub: Hub, conn: Conn, name: string, presence?: { userId: string; info: unknown }) {
  const live = () => hub.conns.get(conn.socketId) === conn;
  const joined = await hub.join(conn, name, presence).settled;
  if (!live()) return;
  if (joined?.refused) {
    return sendSubscriptionError(
      hub,
      conn,
      name,
      `At most ${hub.config.maxPresenceMembers} members per presence channel`,
    );
  }
  hub.send(
    conn,
    frame(
      "pusher_internal:subscription_succeeded",
      presence ? { presence: await hub.presence(name, joined?.members) } : {},
      name,
    ),
  );
  if (presence) hub.release(conn, name);
  if (isCacheChannel(name)) {
    const last = await hub.cached(name);
    hub.send(conn, last ? frame(last.event, last.data, name) : frame("pusher:cache_miss", {}, name));
  }
}

/** Limits are refused as soketi does: type LimitReached, status 4100 (over capacity). */
function sendSubscriptionError(
  hub: Hub,
  conn: Conn,
  name: unknown,
  error: string,
  status: number = CODES.overCapacity,
  type = "LimitReached",
) {
  hub.send(
    conn,
    JSON.stringify({
      event: "pusher:subscription_error",
      // The name as sent, so the client can route the error (bounded by the frame size).
      channel: typeof name === "string" ? name : undefined,
      data: { type, error, status },
    }),
  );
}

function signIn(hub: Hub, conn: Conn, data: Record<string, unknown>) {
  const auth = typeof data.auth === "string" ? data.auth : "";
  const userData = typeof data.user_data === "string" ? data.user_data : "";
  const user = asRecord(safeJson(userData));
  const id = typeof user.id === "number" ? String(user.id) : user.id;
  const valid = auth && safeEqual(auth, userAuth(hub.config.key, hub.config.secret, conn.socketId, userData));
  if (!valid || typeof id !== "string" || !id) {
    hub.send(conn, errorFrame(CODES.unauthorized, "Invalid sign-in"));
    closeWith(conn.ws, CODES.unauthorized, "Invalid sign-in");
    return;
  }
  hub.signIn(conn, id);
  hub.send(conn, frame("pusher:signin_success", { user_data: userData }));
}

function clientEvent(hub: Hub, conn: Conn, event: string, channel: unknown, data: unknown) {
  if (!hub.config.clientEvents) {
    return hub.send(conn, errorFrame(CODES.clientEventRejected, "Client events are disabled on this server"));
  }
  if (typeof channel !== "string" || !conn.channels.has(channel)) {
    return hub.send(conn, errorFrame(null, "Subscribe to the channel before sending client events on it"));
  }
  const kind = channelKind(channel);
  if (kind !== "private" && kind !== "presence") {
    return hub.send(conn, errorFrame(null, "Client events are only allowed on private and presence channels"));
  }
  if (!takeToken(hub, conn)) {
    return hub.send(
      conn,
      errorFrame(
        CODES.clientEventRejected,
        `Client event rejected: more than ${hub.config.clientEventsPerSecond} per second`,
      ),
    );
  }
  const payload = typeof data === "string" ? data : safeStringify(data ?? null);
  if (payload === undefined) return hub.send(conn, errorFrame(null, "Invalid event data"));
  if (Buffer.byteLength(payload) > hub.config.maxEventBytes) {
    return hub.send(conn, errorFrame(null, `Event data too large: at most ${hub.config.maxEventBytes} bytes`));
  }
  const userId = conn.channels.get(channel) ?? undefined;
  void hub.publish(channel, event, payload, { exceptSocketId: conn.socketId, userId });
  hub.webhooks.add({ name: "client_event", channel, event, data: payload, socket_id: conn.socketId, user_id: userId });
}

/** Token bucket: `clientEventsPerSecond` tokens, refilled continuously. */
function takeToken(hub: Hub, conn: Conn) {
  const now = Date.now();
  const rate = hub.config.clientEventsPerSecond;
  conn.eventTokens = Math.min(rate, conn.eventTokens + ((now - conn.tokensAt) / 1000) * rate);
  conn.tokensAt = now;
  if (conn.eventTokens < 1) return false;
  conn.eventTokens -= 1;
  return true;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** JSON.stringify throws on data nested deeper than the stack (a 64 KB frame of `[[[…`). */
function safeStringify(value: unknown): string | undefined {
  try {
    return JSON.stringify(value);
  } catch {
    return undefined;
  }
}

function asRecord(v: unknown): Record<string, unknown> {
  return v && typeof v === "object" ? (v as Record<string, unknown>) : {};
}
