import type { z } from "zod";
import type { Role } from "@/db/schema";
import { findPlayer, findStaff } from "../chat/actors";
import { ChatError, httpStatusOf } from "../chat/errors";
import { cachedSession } from "../session-cache";
import type { HttpDeps } from "./deps";
import { faultMessage, reportFault } from "./faults";
import { assertJsonFromOwnOrigin } from "./same-origin";

/** An error with the HTTP status and message the client should get. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly fieldErrors?: Record<string, string[]>,
  ) {
    super(message);
  }
}

/** Characters up to which a one-piece JsonText is written as a string (JsonText.toWrite). */
const SHORT_TEXT = 1024;
/** Whether a string's last code unit is the first half of a surrogate pair (read, not searched). */
const endsInHighSurrogate = (text: string) => (text.charCodeAt(text.length - 1) & 0xfc00) === 0xd800;

/**
 * A JSON answer kept as its text: node-bridge.ts writes the text itself, where a Response.json
 * would be encoded into a web body stream and read back out of it (a few hundred µs and a copy or
 * two of the body per request, issue 11). json() and text() answer from the text, so route tests
 * read it like any Response; it has no web body stream (`body` is null).
 *
 * Its headers too are kept plain (`head`, which the bridge writes as they are): the web Headers
 * that `headers` gives are made only when code asks for them, then the bridge writes those. A
 * Response's own headers (filled from its init, then read back by the bridge) were about a tenth of
 * the bridge's CPU per tRPC call (issue 11).
 */
export class JsonText extends Response {
  readonly head: Record<string, string>;
  #headers: Headers | undefined;
  readonly #parts: readonly string[];
  /** `content`: the text, or the pieces it is made of in order (see `toWrite`). */
  constructor(content: string | readonly string[], status = 200, headers: Record<string, string> = {}) {
    super(null, { status });
    this.#parts = typeof content === "string" ? [content] : content;
    this.head = { "content-type": "application/json", ...headers };
  }
  /** The whole text. */
  get content(): string {
    return this.#parts.join("");
  }
  /**
   * The body node-bridge.ts writes: a short text of one piece as it is (Node's http joins it to the
   * response head and writes both at once: a small copy), anything else as its UTF-8 bytes, each
   * piece encoded straight into one buffer outside V8's heap. Written as a string, a thread page
   * (~14 KB) was copied twice more on the heap per read: joined from its pieces (a concatenation is
   * flattened when measured or written), then joined to the head: ~30 of its ~95 KB allocated per
   * read (issue 11, bench/README.md "A thread read's garbage"). Short answers (`chat.me`) stay
   * strings, written in one piece with the head as before: as bytes they would be two pieces to
   * write for a copy of a few hundred bytes saved (bench/ab.ts could not tell the two apart).
   */
  toWrite(): string | Buffer {
    const only = this.#parts.length === 1 ? this.#parts[0] : undefined;
    if (only !== undefined && only.length <= SHORT_TEXT) return only;
    let size = 0;
    for (const part of this.#parts) {
      // A piece ending in half a surrogate pair, encoded alone, is a replacement character where
      // the whole text has the pair's one character: such a text is encoded whole (never ours:
      // the staff page is cut between JSON tokens; tests/http/json-text.test.ts).
      if (endsInHighSurrogate(part)) return Buffer.from(this.content);
      size += Buffer.byteLength(part);
    }
    const bytes = Buffer.allocUnsafe(size);
    let at = 0;
    for (const part of this.#parts) at += bytes.write(part, at);
    return bytes;
  }
  override get headers(): Headers {
    this.#headers ??= new Headers(this.head);
    return this.#headers;
  }
  /** The headers to write: `head`, or the web Headers once anything asked for them (and may have changed them). */
  get headersToWrite(): Record<string, string> | Headers {
    return this.#headers ?? this.head;
  }
  override async text(): Promise<string> {
    return this.content;
  }
  override async json(): Promise<unknown> {
    return JSON.parse(this.content);
  }
}

/** Response.json without the body stream (see JsonText). */
export const jsonResponse = (value: unknown, status = 200) => new JsonText(JSON.stringify(value), status);

export function jsonError(
  status: number,
  message: string,
  fieldErrors?: Record<string, string[]>,
  details: Record<string, unknown> = {},
) {
  return Response.json({ error: { status, message, ...details, ...(fieldErrors ? { fieldErrors } : {}) } }, { status });
}

/** Bad input, auth, and domain refusals become 4xx JSON; only a real fault is a 500. */
export async function respond(work: () => Promise<Response>): Promise<Response> {
  try {
    return await work();
  } catch (err) {
    if (err instanceof HttpError) return jsonError(err.status, err.message, err.fieldErrors);
    if (err instanceof ChatError) {
      const response = jsonError(httpStatusOf[err.code], err.message, undefined, err.details);
      const wait = err.details.retryAfterSeconds;
      if (wait !== undefined) response.headers.set("retry-after", String(wait));
      return response;
    }
    return jsonError(500, faultMessage(reportFault("http", err)));
  }
}

export function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const fieldErrors: Record<string, string[]> = {};
  for (const issue of result.error.issues) {
    const key = issue.path.join(".") || "_";
    fieldErrors[key] = [...(fieldErrors[key] ?? []), issue.message];
  }
  throw new HttpError(400, result.error.issues.map((i) => i.message).join("; "), fieldErrors);
}

/** The body of a state-changing request: only from the app's own origin, only JSON (see same-origin.ts). */
export async function readJson(request: Request): Promise<unknown> {
  assertJsonFromOwnOrigin(request);
  try {
    return await request.json();
  } catch {
    throw new HttpError(400, "The body is not valid JSON");
  }
}

export async function readForm(request: Request): Promise<Record<string, string>> {
  return Object.fromEntries(new URLSearchParams(await request.text()));
}

/** The signed-in user and their session, without their records; anonymous → 401. */
export async function signedIn(deps: HttpDeps, request: Pick<Request, "headers">) {
  const session = await cachedSession(deps.auth, request.headers);
  if (!session) throw new HttpError(401, "Sign in first");
  return { user: { ...session.user, role: session.user.role as Role }, session: session.session };
}

/** The signed-in caller and their player / staff record; anonymous → 401. */
export async function caller(deps: HttpDeps, request: Pick<Request, "headers">) {
  const { user, session } = await signedIn(deps, request);
  const [player, staff] = await Promise.all([findPlayer(deps.db, user), findStaff(deps.db, user)]);
  return { user, session, player, staff };
}
