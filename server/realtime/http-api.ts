import type { IncomingMessage, ServerResponse } from "node:http";
import { z } from "zod";
import { type Hub, USER_CHANNEL_PREFIX } from "./hub";
import { channelKind, isValidChannelName } from "./protocol";
import { hmacSha256Hex, md5Hex, safeEqual } from "./signature";

/** The signed HTTP API the `pusher` server SDK talks to. */

const MAX_BODY_BYTES = 1024 * 1024;
const MAX_CHANNELS = 100;
const MAX_BATCH = 10;

class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

const channelName = z
  .string()
  .refine((n: string) => isValidChannelName(n) || isUserChannel(n), { error: "invalid channel name" });
/** `#server-to-user-{id}`: a signed-in user's feed; '#' is otherwise not allowed in names. */
function isUserChannel(name: string) {
  return name.startsWith(USER_CHANNEL_PREFIX) && isValidChannelName(name.slice(USER_CHANNEL_PREFIX.length));
}

const eventBody = z.object({
  name: z.string().min(1).max(200),
  data: z.string(),
  channel: channelName.optional(),
  channels: z
    .array(channelName)
    .min(1)
    .max(MAX_CHANNELS, { error: `at most ${MAX_CHANNELS} channels` })
    .optional(),
  socket_id: z
    .string()
    .regex(/^\d+\.\d+$/)
    .optional(),
  info: z.string().optional(),
  /** Ours, not Pusher's: a publisher's retry carries the first attempt's key (see RecentKeys). */
  idempotency_key: z.string().min(1).max(100).optional(),
});
type EventBody = z.infer<typeof eventBody>;
const batchBody = z.object({
  batch: z.array(eventBody).max(MAX_BATCH, { error: `at most ${MAX_BATCH} events per batch` }),
});

export async function handleApi(hub: Hub, req: IncomingMessage, res: ServerResponse, url: URL) {
  hub.metrics.httpRequests++;
  try {
    const match = /^\/apps\/([^/]+)(\/.*)$/.exec(url.pathname);
    if (!match) throw new ApiError(404, "Not found");
    const [, appId, rest = ""] = match;
    if (appId !== hub.config.appId) throw new ApiError(404, "Unknown app");
    const body = await readBody(req);
    authenticate(hub, req.method ?? "GET", url, body);
    const result = await route(hub, req.method ?? "GET", rest, url, body);
    send(res, 200, result);
  } catch (err) {
    hub.metrics.httpErrors++;
    if (err instanceof ApiError) return send(res, err.status, { error: err.message });
    send(res, 500, { error: "Internal error" });
  }
}

async function route(hub: Hub, method: string, path: string, url: URL, body: string): Promise<unknown> {
  if (method === "POST" && path === "/events") return publishOne(hub, parseJson(eventBody, body));
  if (method === "POST" && path === "/batch_events") {
    const { batch } = parseJson(batchBody, body);
    // Started in order, so they reach every node in batch order; answered once all are out.
    const results = await Promise.all(batch.map((event) => publishOne(hub, event)));
    return batch.some((e) => e.info) ? { batch: results.map((r) => (r as { channels?: object }).channels ?? {}) } : {};
  }
  if (method === "GET" && path === "/channels") return listChannels(hub, url);
  const users = /^\/channels\/([^/]+)\/users$/.exec(path);
  if (method === "GET" && users?.[1]) {
    const name = decodePathPart(users[1]);
    if (channelKind(name) !== "presence") throw new ApiError(400, "Users can only be listed for presence channels");
    return { users: [...(await hub.adapter.members(name)).keys()].map((id) => ({ id })) };
  }
  const channel = /^\/channels\/([^/]+)$/.exec(path);
  if (method === "GET" && channel?.[1]) return channelInfo(hub, decodePathPart(channel[1]), url);
  const terminate = /^\/users\/([^/]+)\/terminate_connections$/.exec(path);
  if (method === "POST" && terminate?.[1]) {
    await hub.terminate(decodePathPart(terminate[1]));
    return {};
  }
  throw new ApiError(404, "Not found");
}

async function publishOne(hub: Hub, event: EventBody) {
  const channels = event.channels ?? (event.channel ? [event.channel] : []);
  if (channels.length === 0) throw new ApiError(400, "channel or channels is required");
  if (Buffer.byteLength(event.data) > hub.config.maxEventBytes) {
    throw new ApiError(413, `Event data too large: at most ${hub.config.maxEventBytes} bytes`);
  }
  // A retry of an event already handed out is answered as published, and not handed out again.
  // The key is taken before the hand-out, so a retry arriving while the first attempt is still
  // under way (the publisher timed out on it) is a repeat too.
  const key = event.idempotency_key;
  const repeat = key !== undefined && !hub.recentKeys.firstTime(key);
  if (repeat) {
    // The first attempt may still be handing it out: its outcome is this answer's. Were this
    // answered as published and that attempt then failed, nobody would send the event again.
    await hub.recentKeys.handedOut(key);
  } else {
    try {
      const handOut = Promise.all(
        channels.map((name) => hub.publish(name, event.name, event.data, { exceptSocketId: event.socket_id })),
      );
      await (key === undefined ? handOut : hub.recentKeys.handOut(key, handOut));
    } catch (err) {
      // Not handed out (everywhere): the publisher hears 500 and retries, and that retry must
      // not be taken for a repeat. A channel it did reach gets it twice; clients drop the copy.
      if (key !== undefined) hub.recentKeys.forget(key);
      throw err;
    }
  }
  if (!event.info) return {};
  const wanted = event.info.split(",");
  const counts = await Promise.all(channels.map((name) => hub.adapter.counts(name)));
  return {
    channels: Object.fromEntries(
      channels.map((name, i) => {
        const info = counts[i] ?? { subscription_count: 0, user_count: 0 };
        return [
          name,
          {
            ...(wanted.includes("subscription_count") ? { subscription_count: info.subscription_count } : {}),
            ...(wanted.includes("user_count") && channelKind(name) === "presence"
              ? { user_count: info.user_count }
              : {}),
          },
        ];
      }),
    ),
  };
}

async function listChannels(hub: Hub, url: URL) {
  const prefix = url.searchParams.get("filter_by_prefix") ?? "";
  const wanted = (url.searchParams.get("info") ?? "").split(",").filter(Boolean);
  if (wanted.includes("user_count") && !prefix.startsWith("presence-")) {
    throw new ApiError(400, "info=user_count needs filter_by_prefix=presence-");
  }
  const channels: Record<string, object> = {};
  for (const [name, counts] of await hub.adapter.channels()) {
    if (!name.startsWith(prefix) || name.startsWith(USER_CHANNEL_PREFIX)) continue;
    channels[name] = wanted.includes("user_count") ? { user_count: counts.user_count } : {};
  }
  return { channels };
}

async function channelInfo(hub: Hub, name: string, url: URL) {
  if (!isValidChannelName(name)) throw new ApiError(400, "Invalid channel name");
  const wanted = (url.searchParams.get("info") ?? "").split(",").filter(Boolean);
  if (wanted.includes("user_count") && channelKind(name) !== "presence") {
    throw new ApiError(400, "user_count is only available for presence channels");
  }
  const info = await hub.adapter.counts(name);
  return {
    occupied: info.subscription_count > 0,
    ...(wanted.includes("subscription_count") ? { subscription_count: info.subscription_count } : {}),
    ...(wanted.includes("user_count") ? { user_count: info.user_count } : {}),
  };
}

/** Checks the request exactly as the SDKs sign it (auth_version 1.0). */
function authenticate(hub: Hub, method: string, url: URL, body: string) {
  const params = url.searchParams;
  if (params.get("auth_key") !== hub.config.key) throw new ApiError(401, "Unknown auth_key");
  const timestamp = Number(params.get("auth_timestamp"));
  if (!Number.isFinite(timestamp) || Math.abs(Date.now() / 1000 - timestamp) > hub.config.timestampWindowSeconds) {
    throw new ApiError(401, `auth_timestamp must be within ${hub.config.timestampWindowSeconds} s of server time`);
  }
  if (params.get("auth_version") !== "1.0") throw new ApiError(401, "auth_version must be 1.0");
  if (params.getAll("auth_signature").length > 1) throw new ApiError(401, "Invalid signature");
  if (body.length > 0 && params.get("body_md5") !== md5Hex(body))
    throw new ApiError(401, "body_md5 does not match the body");
  const signature = params.get("auth_signature") ?? "";
  const signed = [...params.entries()]
    .filter(([k]) => k !== "auth_signature")
    .map(([k, v]) => [k.toLowerCase(), v] as const)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([k, v]) => `${k}=${v}`)
    .join("&");
  const expected = hmacSha256Hex(hub.config.secret, `${method}\n${url.pathname}\n${signed}`);
  if (!safeEqual(signature, expected)) throw new ApiError(401, "Invalid signature");
}

function parseJson<S extends z.ZodType>(schema: S, body: string): z.output<S> {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new ApiError(400, "Body is not valid JSON");
  }
  const parsed = schema.safeParse(value);
  if (!parsed.success)
    throw new ApiError(400, parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`).join("; "));
  return parsed.data;
}

/** A percent-encoded path segment; a malformed escape (`%E0%A4%A`) is the client's error. */
function decodePathPart(part: string) {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new ApiError(400, "Malformed path");
  }
}

function readBody(req: IncomingMessage): Promise<string> {
  if (Number(req.headers["content-length"]) > MAX_BODY_BYTES) {
    // Said up front: answer at once and close instead of reading a body we would drop.
    req.resume();
    return Promise.reject(new ApiError(413, "Request body too large"));
  }
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    // Past the limit the rest is read and dropped, so the client still gets its 413.
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on("end", () =>
      size > MAX_BODY_BYTES
        ? reject(new ApiError(413, "Request body too large"))
        : resolve(Buffer.concat(chunks).toString("utf8")),
    );
    req.on("error", reject);
  });
}

function send(res: ServerResponse, status: number, body: unknown) {
  if (res.headersSent) return;
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}
