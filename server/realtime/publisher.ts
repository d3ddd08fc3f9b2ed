import { createHmac, createSecretKey, hash, type KeyObject } from "node:crypto";
import http from "node:http";
import https from "node:https";
import Pusher from "pusher";
import { type PlainPoster, plainPoster } from "./plain-post";

export type PublisherOptions = {
  appId: string;
  key: string;
  secret: string;
  useTLS: boolean;
  /** Per request. Short: a hung server must not hold a lane of the gateway (gateway.ts) for long. */
  timeoutMs?: number;
} & ({ host: string; port: number } | { cluster: string });

/**
 * The `pusher` SDK as this app holds it: its batch publish resolves with nothing (see
 * `createPublisher`); the rest is the SDK's. A plain SDK client is one too (tests use both).
 */
export type Publisher = Omit<Pusher, "triggerBatch"> & {
  triggerBatch(batch: Pusher.BatchEvent[]): Promise<unknown>;
};

export const PUBLISH_TIMEOUT_MS = 500;

/**
 * The most of an answer's body a publish reads (a refusal's body is kept for its error; a 2xx's is
 * dropped). Ours answers `{}` or a line of text; past this the server is not one we publish to, and
 * the connection is closed: a body without end would otherwise grow the web process until the
 * publish's timeout (by gigabytes on loopback) or, after a 2xx head, hold the connection for ever.
 */
export const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * A pooled socket idle this long is closed by us, before the server closes it (ours after 10 s,
 * Node's default 5 s; a server announcing less in `Keep-Alive: timeout=` is obeyed by the agent).
 * Without it the agent kept idle sockets forever, and a publish written on one the server was
 * closing was reset unread: "socket hang up", never delivered (issue 11).
 */
export const IDLE_SOCKET_MS = 4_000;

/**
 * The official `pusher` SDK, configured for ours, Soketi (host/port) or hosted Pusher (cluster):
 * the app publishes the same way whichever is behind it. A keep-alive agent saves a TCP
 * handshake per publish.
 */
export function createPublisher(opts: PublisherOptions): Publisher {
  const agentOptions = { keepAlive: true, timeout: IDLE_SOCKET_MS };
  const agent = opts.useTLS ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
  const base = {
    appId: opts.appId,
    key: opts.key,
    secret: opts.secret,
    useTLS: opts.useTLS,
    timeout: opts.timeoutMs ?? PUBLISH_TIMEOUT_MS,
    agent,
  };
  const pusher =
    "cluster" in opts
      ? new Pusher({ ...base, cluster: opts.cluster })
      : new Pusher({ ...base, host: opts.host, port: String(opts.port) });
  const sdkTriggerBatch = pusher.triggerBatch.bind(pusher);
  const post = batchPoster(opts, agent);
  // Encrypted channels need the SDK's encryption; we publish to none, but keep them correct.
  const triggerBatch = (batch: Pusher.BatchEvent[]) =>
    batch.some((e) => e.channel.startsWith("private-encrypted-")) ? sdkTriggerBatch(batch) : post(batch);
  return Object.assign(pusher, { triggerBatch }) as Publisher;
}

/**
 * Batch publishes (every event the chat sends) leave through our own HTTP client, not the SDK's
 * node-fetch: the same request (the SDK's body, signed as the SDK signs it: `signedPostQuery`), on
 * keep-alive connections, with the same timeout (to the head of a 2xx answer, as the SDK's; to the
 * end of a refusal's body, which the SDK waited on without end), and its failures are the SDK's
 * `RequestError` (an answer's `status`, or the network `error`, a timeout named `AbortError`), so
 * the gateway reads them as before. Why: node-fetch builds a `Request`, `Headers`, an
 * `AbortController`, a body stream and a `Response` per publish, which cost the web process 40 %
 * more CPU per publish than Node's client (bench/README.md "Issue 11: the delivery path"), and Node's
 * client in turn costs a lone publish more than the minimal one plain-post.ts is (bench/README.md
 * "The publish's own HTTP client"), on the path between a stored message and the staff sockets. A
 * TLS server (hosted Pusher) is still reached through Node's `https` with the keep-alive agent.
 */
function batchPoster(opts: PublisherOptions, agent: http.Agent) {
  const path = `/apps/${opts.appId}/batch_events`;
  const secret = createSecretKey(Buffer.from(opts.secret));
  const host = "cluster" in opts ? `api-${opts.cluster}.pusher.com` : opts.host;
  const port = "cluster" in opts ? undefined : opts.port;
  const origin = `${opts.useTLS ? "https" : "http"}://${host}${port ? `:${port}` : ""}`;
  const timeoutMs = opts.timeoutMs ?? PUBLISH_TIMEOUT_MS;
  const post: PlainPoster["post"] = opts.useTLS
    ? nodePoster(https.request, { host, port, agent })
    : plainPoster({ host, port: port ?? 80, idleMs: IDLE_SOCKET_MS }).post;
  return (batch: Pusher.BatchEvent[]) =>
    new Promise<void>((resolve, reject) => {
      // As the SDK sends it: data that is not a string goes as its JSON.
      const events = batch.map((e) => (typeof e.data === "string" ? e : { ...e, data: JSON.stringify(e.data) }));
      const body = JSON.stringify({ batch: events });
      const target = `${path}?${signedPostQuery(opts.key, secret, path, body)}`;
      let timer: ReturnType<typeof setTimeout> | undefined;
      let settled = false;
      // Once a refusal's head is in, its status is the failure, whatever happens to its body.
      let status: number | undefined;
      const chunks: Buffer[] = [];
      let read = 0;
      const fail = (err: Error) => {
        clearTimeout(timer);
        if (settled) return;
        settled = true;
        const url = `${origin}${target}`;
        reject(
          status === undefined
            ? new Pusher.RequestError("Request failed with an error", url, err)
            : new Pusher.RequestError(
                `Unexpected status code ${status}`,
                url,
                err,
                status,
                Buffer.concat(chunks).toString(),
              ),
        );
      };
      const request = post(target, body, {
        head(answered) {
          if (answered < 400) {
            // Taken, as the SDK saw it: its head, not its body, decides (a body that is slow or dies
            // must not fail a publish the server took: it would be sent again). The body is still
            // read to its end, so the connection can serve the next publish.
            clearTimeout(timer);
            settled = true;
            resolve();
            return;
          }
          status = answered;
        },
        data(chunk) {
          read += chunk.length;
          if (read > MAX_ANSWER_BYTES) {
            if (status !== undefined) chunks.push(chunk.subarray(0, chunk.length - (read - MAX_ANSWER_BYTES)));
            request.destroy(new Error(`the answer's body is larger than ${MAX_ANSWER_BYTES} bytes`));
          } else if (status !== undefined) chunks.push(chunk);
        },
        end() {
          if (status !== undefined) fail(new Error(`HTTP ${status}`));
        },
        error: fail, // after a resolve, nothing (it is settled)
      });
      timer = setTimeout(() => {
        const err = new Error(`no answer within ${timeoutMs} ms`);
        err.name = "AbortError"; // what the SDK's timeout (an aborted fetch) reports
        request.destroy(err);
      }, timeoutMs);
    });
}

/** The same exchange over Node's HTTP client (for TLS): a `ClientRequest` on the keep-alive agent. */
function nodePoster(
  request: typeof https.request,
  where: { host: string; port: number | undefined; agent: http.Agent },
): PlainPoster["post"] {
  return (target, body, exchange) => {
    const req = request({
      ...where,
      method: "POST",
      path: target,
      headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) },
    });
    req.on("error", (err) => exchange.error(err));
    req.on("response", (res) => {
      res.on("error", (err) => exchange.error(err));
      exchange.head(res.statusCode ?? 0);
      res.on("data", (chunk: Buffer) => exchange.data(chunk));
      res.on("end", () => exchange.end());
    });
    req.end(body);
    return { destroy: (err) => req.destroy(err) };
  };
}

/**
 * The query string the SDK's `createSignedQueryString` makes for a POST of `body` (pusher/lib/requests.js):
 * its four parameters, already in the sorted order it puts them in, then the HMAC-SHA256 of
 * "POST\n<path>\n<them>" under the secret. Made here with one call per digest and the secret's key
 * object made once, where the SDK builds, sorts and joins arrays and imports the secret again on
 * every publish: a part of the publish's web CPU a lone send pays in full (issue 11).
 */
export function signedPostQuery(key: string, secret: KeyObject, path: string, body: string, now = Date.now()) {
  const query = `auth_key=${key}&auth_timestamp=${(now / 1000) | 0}&auth_version=1.0&body_md5=${hash("md5", body, "hex")}`;
  return `${query}&auth_signature=${createHmac("sha256", secret).update(`POST\n${path}\n${query}`).digest("hex")}`;
}
