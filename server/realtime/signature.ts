import { createHash, createHmac, timingSafeEqual } from "node:crypto";

export const hmacSha256Hex = (secret: string, payload: string) =>
  createHmac("sha256", secret).update(payload).digest("hex");

export const md5Hex = (body: string | Buffer) => createHash("md5").update(body).digest("hex");

/** Compares secrets without leaking, through timing, how much of a guess was right. */
export function safeEqual(a: string, b: string) {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The `auth` a client sends to join a private or presence channel. */
export function channelAuth(key: string, secret: string, socketId: string, channel: string, channelData?: string) {
  const payload = channelData === undefined ? `${socketId}:${channel}` : `${socketId}:${channel}:${channelData}`;
  return `${key}:${hmacSha256Hex(secret, payload)}`;
}

/** The `auth` a client sends with pusher:signin. */
export function userAuth(key: string, secret: string, socketId: string, userData: string) {
  return `${key}:${hmacSha256Hex(secret, `${socketId}::user::${userData}`)}`;
}
