import { type BrowserRealtimeConfig, env, realtimeEndpoints } from "@/env";
import { oneSignalConfig } from "../notify/config";

/**
 * Headers on every response. The CSP lets pages load and connect only to the app's own origin
 * and the realtime server (plus OneSignal's SDK when push is configured). The realtime host
 * defaults to the host the page was loaded from, so the policy is built per request.
 */
export function securityHeaders(opts: {
  host: string | undefined;
  dev: boolean;
  /** The request's path: stored photos get a policy of their own. */
  path?: string;
}): Record<string, string> {
  // Every response carries these, and building them reads the settings and parses the host
  // (tens of µs): kept per host. Hosts come from clients, so the memory is bounded.
  const key = `${opts.dev}|${opts.path?.startsWith(PHOTOS_PATH) ?? false}|${opts.host ?? ""}`;
  let headers = built.get(key);
  if (!headers) {
    if (built.size >= MAX_BUILT) built.clear();
    headers = buildHeaders(opts);
    built.set(key, headers);
  }
  return headers;
}

const built = new Map<string, Record<string, string>>();
const MAX_BUILT = 64;

function buildHeaders(opts: { host: string | undefined; dev: boolean; path?: string }): Record<string, string> {
  const realtime = realtimeSource(realtimeEndpoints(env).browser, pageHostname(opts.host));
  const push = oneSignalConfig().appId
    ? ["https://cdn.onesignal.com", "https://onesignal.com", "https://api.onesignal.com"]
    : [];
  const sources = (...list: string[]) => [...list, ...push].join(" ");
  const csp = [
    "default-src 'self'",
    // Next.js inlines its bootstrap scripts; the dev server also evaluates code.
    `script-src ${sources("'self'", "'unsafe-inline'", ...(opts.dev ? ["'unsafe-eval'"] : []))}`,
    `style-src ${sources("'self'", "'unsafe-inline'")}`,
    `img-src ${sources("'self'", "data:", "blob:")}`,
    "font-src 'self'",
    `connect-src ${sources("'self'", ...(realtime ? [realtime] : []))}`,
    "worker-src 'self'",
    "object-src 'none'",
    "base-uri 'self'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join("; ");
  return {
    "content-security-policy": opts.path?.startsWith(PHOTOS_PATH) ? PHOTO_CSP : csp,
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "x-content-type-options": "nosniff",
    "permissions-policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "cross-origin-opener-policy": "same-origin",
  };
}

const PHOTOS_PATH = "/api/photos/";
/**
 * A stored photo (GET /api/photos/:id) may load nothing and run nothing, even if a browser were
 * ever made to treat it as a document. Set here because Next.js keeps a header the front door
 * already set rather than the route's own.
 */
export const PHOTO_CSP = "default-src 'none'; sandbox; frame-ancestors 'none'";

/** Where pusher-js opens its WebSocket, as a CSP source. */
export function realtimeSource(browser: BrowserRealtimeConfig, pageHost: string | null): string | null {
  const scheme = browser.forceTLS ? "wss" : "ws";
  if (browser.wsHost === undefined) return `wss://ws-${browser.cluster}.pusher.com`;
  const host = browser.wsHost ?? pageHost;
  if (!host) return null;
  return `${scheme}://${host}${browser.wsPort ? `:${browser.wsPort}` : ""}`;
}

function pageHostname(host: string | undefined): string | null {
  if (!host) return null;
  try {
    return new URL(`http://${host}`).hostname;
  } catch {
    return null;
  }
}
