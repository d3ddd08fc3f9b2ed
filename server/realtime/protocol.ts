/** Pusher protocol 7 close / error codes we use (pusher.com/docs/channels/library_auth_reference/pusher-websockets-protocol). */
export const CODES = {
  appNotFound: 4001,
  overQuota: 4004,
  unsupportedProtocol: 4007,
  noProtocol: 4008,
  unauthorized: 4009,
  /** 4100–4199: the client may reconnect after a pause (pusher-js waits 1 s). */
  overCapacity: 4100,
  /** 4200–4299: the client should reconnect at once. */
  genericReconnect: 4200,
  pongTimeout: 4201,
  /** 4300–4399: an error the connection survives. */
  clientEventRejected: 4301,
} as const;

export const SUPPORTED_PROTOCOL = 7;

/** Allowed channel-name characters and length, as Pusher defines them. */
export const CHANNEL_NAME = /^[A-Za-z0-9_\-=@,.;]+$/;
export const MAX_CHANNEL_NAME = 164;
/** Pusher's limits on a presence member: user_id length, and user_info as JSON. */
export const MAX_USER_ID = 128;
export const MAX_USER_INFO_BYTES = 1024;

export type ChannelKind = "public" | "private" | "encrypted" | "presence";

export function channelKind(name: string): ChannelKind {
  if (name.startsWith("presence-")) return "presence";
  if (name.startsWith("private-encrypted-")) return "encrypted";
  if (name.startsWith("private-")) return "private";
  return "public";
}

/** Cache channels remember their last event for late subscribers. */
export const isCacheChannel = (name: string) => /^(private-encrypted-|private-|presence-)?cache-/.test(name);

export function isValidChannelName(name: unknown): name is string {
  return typeof name === "string" && name.length > 0 && name.length <= MAX_CHANNEL_NAME && CHANNEL_NAME.test(name);
}

/** Frames are serialised once and the same string is sent to every recipient. */
export function frame(event: string, data: unknown, channel?: string, extra?: Record<string, unknown>) {
  return JSON.stringify({
    event,
    ...(channel !== undefined ? { channel } : {}),
    data: typeof data === "string" ? data : JSON.stringify(data),
    ...extra,
  });
}

export const errorFrame = (code: number | null, message: string) =>
  JSON.stringify({ event: "pusher:error", data: { code, message } });

/** WebSocket close reasons are at most 123 bytes; `ws` throws on longer ones. */
const MAX_CLOSE_REASON_BYTES = 123;

/**
 * Closes with a Pusher code and a fixed reason. Reasons are our own text, never client input;
 * trimming is the guard that keeps even a careless future reason from throwing.
 */
export function closeWith(ws: { close(code: number, reason: string): void }, code: number, reason: string) {
  let text = reason;
  while (Buffer.byteLength(text) > MAX_CLOSE_REASON_BYTES) text = text.slice(0, -1);
  ws.close(code, text);
}
