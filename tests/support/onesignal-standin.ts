import { randomUUID } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { performance } from "node:perf_hooks";

/**
 * A local stand-in for OneSignal's Create message endpoint (`POST /notifications?c=push`),
 * strict the way the real API is: a request it accepts is one OneSignal would accept.
 * Every request that reaches it is recorded, in arrival order, with what it was answered.
 */

export const STANDIN_APP_ID = "0f6c1d3e-8a2b-4c5d-9e7f-1a2b3c4d5e6f";
export const STANDIN_API_KEY = "os_v2_app_standin_test_key";
const MAX_EXTERNAL_IDS = 2000;
const MAX_BODY_BYTES = 1024 * 1024;

export type RecordedRequest = {
  method: string;
  /** Path and query as sent, e.g. `/notifications?c=push`. */
  url: string;
  headers: IncomingHttpHeaders;
  /** The parsed JSON body; null when it was not JSON. */
  body: Record<string, unknown> | null;
  /** performance.now() when the request arrived. */
  receivedAt: number;
  /** Status answered; undefined while hanging (and forever if the client gave up first). */
  status?: number;
  /** Why it was refused, when it was refused by the checks (not by a scripted failure). */
  error?: string;
  /** A repeated idempotency_key: answered with the first result, nothing new "sent". */
  replayed: boolean;
};

type Script = { times: number } & (
  | { kind: "hang" }
  | { kind: "status"; status: number; headers?: Record<string, string> }
);

export type OneSignalStandIn = {
  url: string;
  appId: string;
  apiKey: string;
  /** Every request received, in order. */
  readonly requests: readonly RecordedRequest[];
  /** The requests answered 200 (what OneSignal would have sent). */
  readonly accepted: readonly RecordedRequest[];
  /** The next `times` well-formed requests get no answer at all. */
  hang(times?: number): void;
  /** The next `times` well-formed requests are answered with `status` (default 500). */
  fail(times: number, status?: number): void;
  /**
   * The next `times` well-formed requests are answered 429 with `Retry-After: retryAfterSeconds`,
   * and, as OneSignal's rate limit does, any request before that time has passed is refused too.
   */
  rateLimit(times: number, retryAfterSeconds: number): void;
  /**
   * Resolves once `count` requests have arrived; rejects after `timeoutMs` (15 s: generous for a
   * loaded machine, still inside the 20 s test timeout) saying how many did.
   */
  waitForRequests(count: number, timeoutMs?: number): Promise<RecordedRequest[]>;
  /** Called as each request is recorded (before it is answered). */
  onRequest(listener: (request: RecordedRequest) => void): void;
  close(): Promise<void>;
};

export async function startOneSignalStandIn(
  opts: { appId?: string; apiKey?: string; unsubscribedExternalIds?: readonly string[] } = {},
): Promise<OneSignalStandIn> {
  const appId = opts.appId ?? STANDIN_APP_ID;
  const apiKey = opts.apiKey ?? STANDIN_API_KEY;
  const unsubscribed = new Set(opts.unsubscribedExternalIds ?? []);
  const requests: RecordedRequest[] = [];
  const scripts: Script[] = [];
  const listeners: ((request: RecordedRequest) => void)[] = [];
  const waiters = new Set<() => void>();
  const answeredByKey = new Map<string, Record<string, unknown>>();
  // Rate limited until then (performance.now()), after a scripted 429 with Retry-After.
  let limitedUntil = 0;

  function record(req: IncomingMessage, receivedAt: number, body: Record<string, unknown> | null) {
    const entry: RecordedRequest = {
      method: req.method ?? "",
      url: req.url ?? "",
      headers: req.headers,
      body,
      receivedAt,
      replayed: false,
    };
    requests.push(entry);
    for (const listener of listeners) listener(entry);
    for (const wake of [...waiters]) wake();
    return entry;
  }

  function answer(res: ServerResponse, entry: RecordedRequest, status: number, body: unknown, headers = {}) {
    entry.status = status;
    res.writeHead(status, { "content-type": "application/json; charset=utf-8", ...headers });
    res.end(JSON.stringify(body));
  }

  function refuse(res: ServerResponse, entry: RecordedRequest, status: number, error: string) {
    entry.error = error;
    answer(res, entry, status, { errors: [error] });
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const receivedAt = performance.now();
    const raw = await readBody(req);
    const contentType = String(req.headers["content-type"] ?? "");
    const body = raw !== null && /^application\/json\b/i.test(contentType) ? parseObject(raw) : null;
    const entry = record(req, receivedAt, body);

    const { pathname, searchParams } = new URL(req.url ?? "/", "http://standin");
    if (pathname !== "/notifications") return refuse(res, entry, 404, `no route for ${pathname}`);
    if (req.method !== "POST") return refuse(res, entry, 405, `${req.method} is not allowed here`);
    const channel = searchParams.get("c");
    if (channel !== null && channel !== "push") return refuse(res, entry, 400, `unknown channel c=${channel}`);
    if (req.headers.authorization !== `Key ${apiKey}`) {
      return refuse(
        res,
        entry,
        401,
        "Please include a case-sensitive header of Authorization: Key with a valid App API key.",
      );
    }
    if (raw === null) return refuse(res, entry, 413, "body too large");
    if (!/^application\/json\b/i.test(contentType))
      return refuse(res, entry, 400, "Content-Type must be application/json");
    if (!body) return refuse(res, entry, 400, "Body is not a JSON object");
    const problem = checkNotification(body, appId);
    if (problem) return refuse(res, entry, problem.status, problem.error);

    const waitMs = limitedUntil - receivedAt;
    if (waitMs > 0) {
      const retryAfter = String(Math.ceil(waitMs / 1000));
      return answer(res, entry, 429, { errors: ["API rate limit exceeded"] }, { "retry-after": retryAfter });
    }
    const script = scripts[0];
    if (script) {
      if (--script.times <= 0) scripts.shift();
      if (script.kind === "hang") return; // never answer; close() cuts the socket
      const retryAfterSeconds = Number(script.headers?.["retry-after"] ?? 0);
      // Less 5 ms: the client's timer counts from its event loop's clock, kept in whole milliseconds.
      if (script.status === 429 && retryAfterSeconds > 0) limitedUntil = receivedAt + retryAfterSeconds * 1000 - 5;
      return answer(res, entry, script.status, { errors: [`scripted ${script.status}`] }, script.headers);
    }

    const key = typeof body.idempotency_key === "string" ? body.idempotency_key : null;
    const previous = key ? answeredByKey.get(key) : undefined;
    if (previous) {
      entry.replayed = true;
      return answer(res, entry, 200, previous);
    }
    const ids = (body.include_aliases as { external_id: string[] }).external_id;
    const invalid = ids.filter((id) => unsubscribed.has(id));
    const reply: Record<string, unknown> =
      invalid.length === ids.length
        ? { id: "", external_id: null, errors: ["All included players are not subscribed"] }
        : {
            id: randomUUID(),
            external_id: key,
            ...(invalid.length ? { errors: { invalid_aliases: { external_id: invalid } } } : {}),
          };
    if (key) answeredByKey.set(key, reply);
    answer(res, entry, 200, reply);
  }

  const server = createServer((req, res) => {
    handle(req, res).catch((err) => {
      if (!res.headersSent) res.writeHead(500).end(String(err));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}`,
    appId,
    apiKey,
    requests,
    get accepted() {
      return requests.filter((r) => r.status === 200);
    },
    hang(times = Number.POSITIVE_INFINITY) {
      scripts.push({ kind: "hang", times });
    },
    fail(times, status = 500) {
      scripts.push({ kind: "status", status, times });
    },
    rateLimit(times, retryAfterSeconds) {
      scripts.push({ kind: "status", status: 429, times, headers: { "retry-after": String(retryAfterSeconds) } });
    },
    onRequest(listener) {
      listeners.push(listener);
    },
    waitForRequests(count, timeoutMs = 15_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          if (requests.length < count) return;
          done();
          resolve([...requests]);
        };
        const done = () => {
          clearTimeout(guard);
          waiters.delete(check);
        };
        // A guard, not a wait: it only turns a missing request into a readable failure.
        const guard = setTimeout(() => {
          done();
          reject(new Error(`stand-in expected ${count} request(s), received ${requests.length}`));
        }, timeoutMs);
        waiters.add(check);
        check();
      });
    },
    close() {
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections(); // including requests told to hang
      });
    },
  };
}

/** What OneSignal checks in a push Create message body; null when it would accept it. */
function checkNotification(body: Record<string, unknown>, appId: string): { status: number; error: string } | null {
  const bad = (error: string) => ({ status: 400, error });
  if (typeof body.app_id !== "string" || body.app_id === "") return bad("app_id is required");
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(body.app_id)) {
    return bad("app_id is not a valid UUID");
  }
  if (body.app_id !== appId) return { status: 403, error: "The App API key does not belong to this app_id" };

  const aliases = body.include_aliases;
  if (!aliases || typeof aliases !== "object") return bad("include_aliases is required for this request");
  const ids = (aliases as Record<string, unknown>).external_id;
  if (!Array.isArray(ids) || ids.length === 0) return bad("include_aliases.external_id must be a non-empty array");
  if (!ids.every((id) => typeof id === "string" && id !== "")) {
    return bad("include_aliases.external_id must contain non-empty strings");
  }
  if (ids.length > MAX_EXTERNAL_IDS)
    return bad(`include_aliases.external_id is limited to ${MAX_EXTERNAL_IDS} entries`);
  for (const other of ["included_segments", "excluded_segments", "filters", "include_subscription_ids"]) {
    if (other in body) return bad(`include_aliases cannot be combined with ${other}`);
  }
  if (body.target_channel !== "push") return bad('target_channel must be "push" for include_aliases');

  const contents = body.contents as Record<string, unknown> | undefined;
  if (!contents || typeof contents !== "object" || typeof contents.en !== "string" || contents.en === "") {
    return bad("contents must include English (en) text");
  }
  const headings = body.headings as Record<string, unknown> | undefined;
  if (headings !== undefined && (typeof headings !== "object" || typeof headings?.en !== "string")) {
    return bad("headings must include English (en) text");
  }
  if (body.web_url !== undefined && (typeof body.web_url !== "string" || !URL.canParse(body.web_url))) {
    return bad("web_url must be a URL");
  }
  if (body.collapse_id !== undefined && (typeof body.collapse_id !== "string" || body.collapse_id.length > 64)) {
    return bad("collapse_id must be a string of at most 64 characters");
  }
  if (body.ttl !== undefined && (!Number.isInteger(body.ttl) || (body.ttl as number) < 0)) {
    return bad("ttl must be a non-negative integer (seconds)");
  }
  const key = body.idempotency_key;
  if (
    key !== undefined &&
    (typeof key !== "string" || !/^[0-9a-f]{8}-[0-9a-f]{4}-[34][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(key))
  ) {
    return bad("idempotency_key must be a v3 or v4 UUID");
  }
  return null;
}

/** The body as text; null when it is larger than any real notification. */
async function readBody(req: IncomingMessage): Promise<string | null> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) return null;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

function parseObject(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return value && typeof value === "object" && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
