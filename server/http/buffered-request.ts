const utf8 = new TextDecoder();
const NO_BYTES = new Uint8Array(0);

/**
 * A request whose body was read already (or a GET, which has none), for the routes that read a
 * request's method, URL and headers and its body with json() / text() and nothing else (tRPC,
 * api-routes.ts "json-only"): json() and text() answer from those bytes, decoded as fetch decodes them (UTF-8, a
 * leading BOM dropped, bad bytes replaced), and it has no web body stream (`body` is null).
 *
 * Not a web Request (issue 11): building a Request's body stream and reading it back cost about
 * 30 µs of CPU per request with Next's async hooks on, and the Request itself (undici's
 * constructor: its init converted member by member, the URL parsed again, an AbortSignal, the
 * headers copied) another 0.08–0.11 ms per paced send in the web process's profile, the largest
 * part of the bridge (bench/README.md, "Paced sends: the web process's own code"). Code that needs
 * a real one (tRPC's own adapter) asks asWebRequest().
 */
export class BufferedRequest {
  readonly method: string;
  readonly url: string;
  /** `url` as the bridge parsed it: read this rather than parse `url` again (urlOf). */
  readonly parsedUrl: URL;
  readonly headers: Headers;
  readonly body = null;
  readonly #bytes: Uint8Array<ArrayBuffer>;
  constructor(url: URL, init: { method: string; headers?: HeadersInit }, bytes: Uint8Array = NO_BYTES) {
    this.method = init.method;
    this.url = url.href;
    this.parsedUrl = url;
    this.headers = init.headers instanceof Headers ? init.headers : new Headers(init.headers);
    this.#bytes = new Uint8Array(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength);
  }
  async text(): Promise<string> {
    return utf8.decode(this.#bytes);
  }
  async json(): Promise<unknown> {
    return JSON.parse(utf8.decode(this.#bytes));
  }
  /** The same request as a web Request: method, URL, headers and the bytes as its body. */
  asWebRequest(): Request {
    const body = this.#bytes.length && this.method !== "GET" && this.method !== "HEAD" ? this.#bytes : undefined;
    return new Request(this.url, { method: this.method, headers: this.headers, body });
  }
}

/** A request's URL, parsed: the bridge's own parse for a BufferedRequest, a new one otherwise. */
export function urlOf(request: Pick<Request, "url">): URL {
  return request instanceof BufferedRequest ? request.parsedUrl : new URL(request.url);
}
