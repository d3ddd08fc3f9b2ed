import { createHash, randomUUID } from "node:crypto";

/**
 * OneSignal's REST API, "Create message" on the push channel:
 * `POST {baseUrl}/notifications?c=push`, `Authorization: Key <App API key>`.
 *
 * Why this file never throws: it runs after the chat has already committed and answered the
 * player. A push that cannot be delivered is logged once and forgotten; nothing upstream can
 * do anything useful with the error.
 */

/**
 * External ids per request. The brief and the older SDK docs say 2,000; the current docs allow
 * more for `include_aliases`. The lower limit is valid under both, and a club has far fewer staff.
 */
export const MAX_EXTERNAL_IDS_PER_REQUEST = 2000;

/** `collapse_id` is passed to APNs/FCM, which cap it at 64 bytes. */
const MAX_COLLAPSE_ID_LENGTH = 64;

/** One push, before it is split into requests. */
export type PushMessage = {
  /** What it is, for logs and the OneSignal dashboard: "new-request", "new-message", "escalation". */
  kind: string;
  /** OneSignal external ids (the id each staff browser was logged in with). */
  externalIds: readonly string[];
  heading: string;
  contents: string;
  /** The page a click opens. */
  webUrl?: string;
  /** Pushes with the same topic replace each other on the device instead of piling up. */
  topic?: string;
  /**
   * The same key always yields the same idempotency_key, so OneSignal sends it once (it remembers
   * keys for 30 days) even if we send it twice. Without one, each send gets a random key; retries
   * of that send still reuse it.
   */
  dedupeKey?: string;
  /** How long push services hold it for an offline device; a chat alert goes stale quickly. */
  ttlSeconds?: number;
  /** Handed to the service worker with the notification. */
  data?: Record<string, string | number | boolean | null>;
};

/** What happened to one request (up to MAX_EXTERNAL_IDS_PER_REQUEST recipients). */
export type BatchOutcome =
  | { status: "sent"; notificationId: string; recipients: number; attempts: number }
  /** OneSignal answered 200 but created nothing (e.g. none of the recipients has push enabled). */
  | { status: "not-sent"; reason: string; recipients: number; attempts: number }
  | { status: "failed"; reason: string; recipients: number; attempts: number }
  /** `signal` was aborted (shutdown) before OneSignal answered. */
  | { status: "aborted"; recipients: number; attempts: number }
  /** OneSignal asked for a pause longer than `maxRetryAfterMs`: not retried early; the caller waits. */
  | { status: "deferred"; retryAfterMs: number; recipients: number; attempts: number };

export type SendReport = { batches: BatchOutcome[] };

export type OneSignalClient = {
  /** Resolves when every request has an outcome; never rejects. */
  send(message: PushMessage, opts?: { signal?: AbortSignal }): Promise<SendReport>;
};

export type OneSignalClientOptions = {
  appId: string;
  apiKey: string;
  baseUrl?: string;
  /** Per attempt, including reading the response body. */
  timeoutMs?: number;
  maxAttempts?: number;
  /** First retry waits about this long; each further one doubles it (with jitter). */
  backoffMs?: number;
  maxBackoffMs?: number;
  /**
   * A Retry-After up to this long is waited out here and the request retried; a longer one is
   * honoured by the caller (the notifier pauses its queue), never cut short by retrying early.
   */
  maxRetryAfterMs?: number;
  log?: (line: string) => void;
  /** For tests of the jitter; defaults to Math.random. */
  random?: () => number;
  /**
   * Starts one attempt's timeout: `onTimeout` runs after `ms` unless the returned cancel runs first.
   * setTimeout by default. Tests expire it by hand once the stand-in holds the request: a real timer
   * shares the event loop with a local stand-in, and under load it fired before the request was read.
   */
  startTimeout?: (ms: number, onTimeout: () => void) => () => void;
};

const realTimeout = (ms: number, onTimeout: () => void) => {
  const timer = setTimeout(onTimeout, ms);
  return () => clearTimeout(timer);
};

type Attempt =
  | { kind: "answered"; body: unknown }
  | { kind: "retry"; reason: string; retryAfterMs: number | null }
  | { kind: "fatal"; reason: string }
  | { kind: "aborted" };

export function createOneSignalClient(options: OneSignalClientOptions): OneSignalClient {
  const {
    appId,
    apiKey,
    baseUrl = "https://api.onesignal.com",
    timeoutMs = 5000,
    maxAttempts = 4,
    backoffMs = 500,
    maxBackoffMs = 30_000,
    maxRetryAfterMs = 60_000,
    log = console.error,
    random = Math.random,
    startTimeout = realTimeout,
  } = options;
  // `c=push` is how the current API reference addresses the push channel of Create message.
  const url = `${baseUrl.replace(/\/+$/, "")}/notifications?c=push`;
  const headers = {
    Authorization: `Key ${apiKey}`,
    "Content-Type": "application/json",
    Accept: "application/json",
  };
  const say = (line: string) => {
    try {
      log(line);
    } catch {
      // A broken logger must not turn into an exception in the caller.
    }
  };

  async function attempt(body: string, stop: AbortSignal | undefined): Promise<Attempt> {
    if (stop?.aborted) return { kind: "aborted" };
    const controller = new AbortController();
    let timedOut = false;
    const cancelTimeout = startTimeout(timeoutMs, () => {
      timedOut = true;
      controller.abort();
    });
    const onStop = () => controller.abort();
    stop?.addEventListener("abort", onStop, { once: true });
    try {
      // redirect "manual": a redirect means a wrong base URL, and following it could hand the
      // key to another host. It surfaces as a non-retried 3xx instead.
      const res = await fetch(url, { method: "POST", headers, body, signal: controller.signal, redirect: "manual" });
      const text = await res.text(); // still under the timeout: a stalled body is a hang too
      if (res.ok) return { kind: "answered", body: parseJson(text) };
      const reason = `HTTP ${res.status}${excerpt(text)}`;
      if (res.status === 429 || res.status >= 500) {
        // Retry-After is defined for 429 and 503; OneSignal sends it with its 429s.
        const honour = res.status === 429 || res.status === 503;
        return { kind: "retry", reason, retryAfterMs: honour ? parseRetryAfter(res.headers.get("retry-after")) : null };
      }
      return { kind: "fatal", reason };
    } catch (err) {
      if (stop?.aborted) return { kind: "aborted" };
      if (timedOut) return { kind: "retry", reason: `timed out after ${timeoutMs} ms`, retryAfterMs: null };
      return { kind: "retry", reason: `network error: ${describeError(err)}`, retryAfterMs: null };
    } finally {
      cancelTimeout();
      stop?.removeEventListener("abort", onStop);
    }
  }

  async function sendBatch(message: PushMessage, ids: string[], index: number, stop?: AbortSignal) {
    // One key for every attempt of this request: a retry after a timeout whose request did reach
    // OneSignal is then answered with the first result instead of notifying everyone twice.
    const idempotencyKey = message.dedupeKey ? uuidV3(`${appId}\n${message.dedupeKey}\n${index}`) : randomUUID();
    const body = JSON.stringify(requestBody(appId, message, ids, idempotencyKey));
    const recipients = ids.length;
    const what = `${message.kind} push to ${recipients} recipient${recipients === 1 ? "" : "s"}`;

    for (let attempts = 1; ; attempts++) {
      const result = await attempt(body, stop);
      if (result.kind === "aborted") return { status: "aborted", recipients, attempts } as const;
      if (result.kind === "answered") {
        const answer = readAnswer(result.body);
        if (answer.id) return { status: "sent", notificationId: answer.id, recipients, attempts } as const;
        // 200 without an id: OneSignal took the request and decided there was no one to send to.
        // Retrying cannot change that.
        say(`[push] ${what} not sent: ${answer.errors ?? "OneSignal created no notification"}`);
        return { status: "not-sent", reason: answer.errors ?? "no notification id", recipients, attempts } as const;
      }
      if (result.kind === "fatal") {
        say(`[push] ${what} failed, not retried: ${result.reason}`);
        return { status: "failed", reason: result.reason, recipients, attempts } as const;
      }
      if (result.retryAfterMs !== null && result.retryAfterMs > maxRetryAfterMs) {
        say(`[push] ${what}: OneSignal asked to wait ${Math.ceil(result.retryAfterMs / 1000)} s; pausing pushes`);
        return { status: "deferred", retryAfterMs: result.retryAfterMs, recipients, attempts } as const;
      }
      if (attempts >= maxAttempts) {
        say(`[push] ${what} gave up after ${attempts} attempt${attempts === 1 ? "" : "s"}: ${result.reason}`);
        return { status: "failed", reason: result.reason, recipients, attempts } as const;
      }
      const wait = result.retryAfterMs ?? backoffDelay(attempts, backoffMs, maxBackoffMs, random);
      await pause(wait, stop);
    }
  }

  return {
    async send(message, opts = {}) {
      const batches: BatchOutcome[] = [];
      try {
        const ids = [...new Set(message.externalIds.map((id) => id.trim()).filter((id) => id !== ""))];
        if (ids.length === 0) return { batches }; // nobody to tell: not an error
        if (!message.contents.trim()) {
          say(`[push] ${message.kind} push has no text; OneSignal would refuse it, not sent`);
          return { batches };
        }
        for (let i = 0; i * MAX_EXTERNAL_IDS_PER_REQUEST < ids.length; i++) {
          const chunk = ids.slice(i * MAX_EXTERNAL_IDS_PER_REQUEST, (i + 1) * MAX_EXTERNAL_IDS_PER_REQUEST);
          const outcome = await sendBatch(message, chunk, i, opts.signal);
          batches.push(outcome);
          if (outcome.status === "deferred") break; // the rest would only be refused too
        }
      } catch (err) {
        // Only a bug can land here (a malformed message); the promise still resolves.
        say(`[push] ${message?.kind ?? "unknown"} push failed: ${describeError(err)}`);
      }
      return { batches };
    },
  };
}

/** The Create message body for one batch of external ids. */
function requestBody(appId: string, message: PushMessage, externalIds: string[], idempotencyKey: string) {
  const topic = message.topic;
  return {
    app_id: appId,
    target_channel: "push",
    include_aliases: { external_id: externalIds },
    headings: { en: message.heading },
    contents: { en: message.contents },
    ...(message.webUrl ? { web_url: message.webUrl } : {}),
    // Web push replaces notifications sharing a topic; collapse_id does the same on mobile.
    ...(topic ? { web_push_topic: topic } : {}),
    ...(topic && topic.length <= MAX_COLLAPSE_ID_LENGTH ? { collapse_id: topic } : {}),
    ...(message.ttlSeconds !== undefined ? { ttl: message.ttlSeconds } : {}),
    ...(message.data ? { data: message.data } : {}),
    // Shown in OneSignal's dashboard, so the club can tell Floorline's sends apart.
    name: `floorline ${message.kind}`,
    idempotency_key: idempotencyKey,
  };
}

/** `{ id, external_id?, errors? }`: an empty or missing id means nothing was created. */
function readAnswer(body: unknown): { id: string | null; errors: string | null } {
  if (!body || typeof body !== "object") return { id: null, errors: "unreadable response" };
  const { id, errors } = body as { id?: unknown; errors?: unknown };
  return {
    id: typeof id === "string" && id !== "" ? id : null,
    errors: errors === undefined || errors === null ? null : excerpt(JSON.stringify(errors)).replace(/^: /, ""),
  };
}

/**
 * Delay before retry number `attempt` (1-based): base·2^(attempt−1), capped, then "equal jitter"
 * (between half and all of it) so that many servers retrying together spread out, and a retry
 * never comes back instantly.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random) {
  const full = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(full / 2 + (random() * full) / 2);
}

/** Retry-After as delay-seconds or an HTTP date → milliseconds; null when absent or unreadable. */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | null {
  if (!value) return null;
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const at = Date.parse(v);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}

/** A name-based (v3) UUID: OneSignal accepts v3 or v4 idempotency keys, and v3 is repeatable. */
const KEY_NAMESPACE = Buffer.from("5b1f2c0e7d4a4e3c9a61c2f0d8b7e413", "hex"); // Floorline's own, random
function uuidV3(name: string): string {
  const hash = createHash("md5").update(KEY_NAMESPACE).update(name, "utf8").digest();
  hash.writeUInt8((hash.readUInt8(6) & 0x0f) | 0x30, 6);
  hash.writeUInt8((hash.readUInt8(8) & 0x3f) | 0x80, 8);
  const hex = hash.toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20, 32)}`;
}

/** Waits `ms`, or less if `signal` aborts (shutdown should not sit out a back-off). */
function pause(ms: number, signal: AbortSignal | undefined) {
  return new Promise<void>((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
  });
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}

/** A short piece of a response body for a log line (OneSignal explains refusals in `errors`). */
function excerpt(text: string) {
  const flat = text.replace(/\s+/g, " ").trim();
  if (!flat) return "";
  return `: ${flat.length > 200 ? `${flat.slice(0, 200)}…` : flat}`;
}

function describeError(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // fetch reports "fetch failed" and puts the useful part (ECONNREFUSED, …) in `cause`.
  const cause = err.cause instanceof Error ? err.cause : null;
  const code = cause && "code" in cause ? String(cause.code) : null;
  return cause ? `${err.message} (${code ?? cause.message})` : err.message;
}
