import { z } from "zod";
import { readSettings, realtimeShared, SettingsError } from "../settings";

/** Every setting of our realtime server, from env, with the defaults documented in the README. */
export const realtimeEnvVars = {
  // Shared with the web app, which signs for and publishes to this server: defined once.
  PUSHER_APP_ID: realtimeShared.PUSHER_APP_ID,
  PUSHER_KEY: realtimeShared.PUSHER_KEY,
  PUSHER_SECRET: realtimeShared.PUSHER_SECRET,
  REALTIME_HOST: realtimeShared.REALTIME_HOST,
  REALTIME_PORT: realtimeShared.REALTIME_PORT,
  REALTIME_MAX_CONNECTIONS: { default: "10000", description: "connections beyond this are refused (4004)" },
  REALTIME_ACTIVITY_TIMEOUT_SECONDS: { default: "120", description: "idle seconds before the server pings a client" },
  REALTIME_PONG_TIMEOUT_MS: { default: "30000", description: "ms to wait for a pong before closing (4201)" },
  REALTIME_CLIENT_EVENTS: { default: "true", description: "allow client-* events on private/presence channels" },
  REALTIME_CLIENT_EVENTS_PER_SECOND: {
    default: "10",
    description: "client events per connection per second (4301 beyond)",
  },
  REALTIME_MAX_EVENT_BYTES: { default: "10240", description: "largest event data accepted (413 / error beyond)" },
  REALTIME_MAX_FRAME_BYTES: { default: "65536", description: "largest WebSocket message handled; bigger get an error" },
  REALTIME_WEBHOOK_URL: { default: "", description: "where to POST webhooks (unset = none)" },
  REALTIME_WEBHOOK_BATCH_MS: { default: "200", description: "webhook events collected this long per request" },
  REALTIME_MAX_CHANNELS_PER_CONNECTION: {
    default: "100",
    description: "channels one connection may join; more get pusher:subscription_error",
  },
  REALTIME_MAX_PRESENCE_MEMBERS: { default: "100", description: "members per presence channel (Pusher's 100)" },
  REALTIME_MAX_BUFFERED_BYTES: {
    default: "1048576",
    description: "unsent bytes held for one connection; beyond, it is closed with 4100",
  },
  REALTIME_CACHE_TTL_SECONDS: { default: "1800", description: "how long a cache- channel keeps its last event" },
  REALTIME_MAX_CACHE_CHANNELS: {
    default: "1000",
    description: "cache- channel events kept at once; the oldest goes first",
  },
  REALTIME_ADAPTER: {
    default: "local",
    description: "where nodes share state: local (one node, in memory) or redis (several nodes on REDIS_URL)",
  },
  REDIS_URL: { default: "", description: "Redis for REALTIME_ADAPTER=redis (redis://host:port/db)" },
  REDIS_PREFIX: { default: "floorline:", description: "prefix of Floorline's Redis keys (one per deployment)" },
  REALTIME_NODE_TTL_SECONDS: {
    default: "10",
    description: "a node silent this long is dead: its members and subscriptions are removed",
  },
  REALTIME_REDIS_BATCH: {
    default: "500",
    description: "subscriptions, joins and leaves per MULTI to Redis at most, and a gone node's entries per call",
  },
} as const;

const port = z.coerce.number().int().min(0).max(65535);
const positive = z.coerce.number().int().positive();

const schema = z.object({
  PUSHER_APP_ID: z.string().min(1),
  PUSHER_KEY: z.string().min(1),
  PUSHER_SECRET: z.string().min(1),
  REALTIME_HOST: z.string().min(1),
  REALTIME_PORT: port,
  REALTIME_MAX_CONNECTIONS: positive,
  REALTIME_ACTIVITY_TIMEOUT_SECONDS: positive,
  REALTIME_PONG_TIMEOUT_MS: positive,
  REALTIME_CLIENT_EVENTS: z.enum(["true", "false", "1", "0"]).transform((v) => v === "true" || v === "1"),
  REALTIME_CLIENT_EVENTS_PER_SECOND: positive,
  REALTIME_MAX_EVENT_BYTES: positive,
  REALTIME_MAX_FRAME_BYTES: positive,
  REALTIME_WEBHOOK_URL: z.union([z.literal(""), z.url()]),
  REALTIME_WEBHOOK_BATCH_MS: z.coerce.number().int().min(0),
  REALTIME_MAX_CHANNELS_PER_CONNECTION: positive,
  REALTIME_MAX_PRESENCE_MEMBERS: positive,
  REALTIME_MAX_BUFFERED_BYTES: positive,
  REALTIME_CACHE_TTL_SECONDS: positive,
  REALTIME_MAX_CACHE_CHANNELS: positive,
  REALTIME_ADAPTER: z.enum(["local", "redis"]),
  REDIS_URL: z.union([z.literal(""), z.url().regex(/^rediss?:\/\//, "must be a redis:// or rediss:// URL")]),
  REDIS_PREFIX: z.string().min(1),
  REALTIME_NODE_TTL_SECONDS: z.coerce.number().positive(),
  REALTIME_REDIS_BATCH: positive,
});

export type RealtimeConfig = {
  appId: string;
  key: string;
  secret: string;
  host: string;
  port: number;
  maxConnections: number;
  /** Seconds; sent to clients as activity_timeout. */
  activityTimeout: number;
  pongTimeoutMs: number;
  clientEvents: boolean;
  clientEventsPerSecond: number;
  maxEventBytes: number;
  maxFrameBytes: number;
  webhookUrl: string | null;
  webhookBatchMs: number;
  /** Webhook delivery attempts before giving up, and the first back-off. */
  webhookAttempts: number;
  webhookBackoffMs: number;
  /** HTTP API requests older or newer than this are refused (replay protection). */
  timestampWindowSeconds: number;
  /**
   * Published events' idempotency keys kept (per node), and for how long: a retry within the
   * window is not handed to sockets again. Longer than the web app's retries (about half a minute).
   */
  idempotencyKeysKept: number;
  idempotencyKeyTtlSeconds: number;
  maxChannelsPerConnection: number;
  maxPresenceMembers: number;
  /** A connection with more unsent data than this is closed with 4100 (over capacity). */
  maxBufferedBytes: number;
  cacheTtlSeconds: number;
  maxCacheChannels: number;
  adapter: "local" | "redis";
  redisUrl: string;
  /** Floorline's keys start with this (the realtime ones then `realtime:{app id}:`), so deployments can share a Redis. */
  redisPrefix: string;
  /** A node that has not renewed its heartbeat for this long is removed by the others. */
  nodeTtlSeconds: number;
  /**
   * Joins and leaves (a rejoin's subscriptions too) per MULTI, and entries of a gone node's share per
   * drain call: one long MULTI or script holds Redis and this node's event loop.
   */
  redisBatch: number;
};

export function realtimeConfigFromEnv(env: Record<string, string | undefined> = process.env): RealtimeConfig {
  // Read like every other process's settings (server/settings.ts): the table's defaults, this schema.
  const table = Object.fromEntries(
    Object.entries(realtimeEnvVars).map(([name, row]) => [
      name,
      { ...row, schema: schema.shape[name as keyof typeof schema.shape] },
    ]),
  );
  const e = readSettings(table, env) as z.output<typeof schema>;
  if (e.REALTIME_ADAPTER === "redis" && !e.REDIS_URL) {
    throw new SettingsError(["REDIS_URL: is required with REALTIME_ADAPTER=redis"]);
  }
  return {
    appId: e.PUSHER_APP_ID,
    key: e.PUSHER_KEY,
    secret: e.PUSHER_SECRET,
    host: e.REALTIME_HOST,
    port: e.REALTIME_PORT,
    maxConnections: e.REALTIME_MAX_CONNECTIONS,
    activityTimeout: e.REALTIME_ACTIVITY_TIMEOUT_SECONDS,
    pongTimeoutMs: e.REALTIME_PONG_TIMEOUT_MS,
    clientEvents: e.REALTIME_CLIENT_EVENTS,
    clientEventsPerSecond: e.REALTIME_CLIENT_EVENTS_PER_SECOND,
    maxEventBytes: e.REALTIME_MAX_EVENT_BYTES,
    maxFrameBytes: e.REALTIME_MAX_FRAME_BYTES,
    webhookUrl: e.REALTIME_WEBHOOK_URL || null,
    webhookBatchMs: e.REALTIME_WEBHOOK_BATCH_MS,
    webhookAttempts: 5,
    webhookBackoffMs: 500,
    timestampWindowSeconds: 600,
    idempotencyKeysKept: 50_000,
    idempotencyKeyTtlSeconds: 120,
    maxChannelsPerConnection: e.REALTIME_MAX_CHANNELS_PER_CONNECTION,
    maxPresenceMembers: e.REALTIME_MAX_PRESENCE_MEMBERS,
    maxBufferedBytes: e.REALTIME_MAX_BUFFERED_BYTES,
    cacheTtlSeconds: e.REALTIME_CACHE_TTL_SECONDS,
    maxCacheChannels: e.REALTIME_MAX_CACHE_CHANNELS,
    adapter: e.REALTIME_ADAPTER,
    redisUrl: e.REDIS_URL,
    redisPrefix: e.REDIS_PREFIX,
    nodeTtlSeconds: e.REALTIME_NODE_TTL_SECONDS,
    redisBatch: e.REALTIME_REDIS_BATCH,
  };
}

/** Defaults with overrides: for tests and embedding. */
export function realtimeConfig(overrides: Partial<RealtimeConfig> = {}): RealtimeConfig {
  return { ...realtimeConfigFromEnv({}), ...overrides };
}
