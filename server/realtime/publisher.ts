import http from "node:http";
import https from "node:https";
import Pusher from "pusher";

export type PublisherOptions = {
  appId: string;
  key: string;
  secret: string;
  useTLS: boolean;
  /** Per request. Short: a send waits for one publish attempt, and a hung server must not hold it. */
  timeoutMs?: number;
} & ({ host: string; port: number } | { cluster: string });

export const PUBLISH_TIMEOUT_MS = 500;

/**
 * A pooled socket idle this long is closed by us, before the server closes it (ours after 10 s,
 * Node's default 5 s; a server announcing less in `Keep-Alive: timeout=` is obeyed by the agent).
 * Without it the agent kept idle sockets forever, and a publish written on one the server was
 * closing was reset unread: "socket hang up", never delivered (issue 11).
 */
const IDLE_SOCKET_MS = 4_000;

/**
 * The official `pusher` SDK, configured for ours, Soketi (host/port) or hosted Pusher (cluster):
 * the app publishes the same way whichever is behind it. A keep-alive agent saves a TCP
 * handshake per publish.
 */
export function createPublisher(opts: PublisherOptions): Pusher {
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
  return "cluster" in opts
    ? new Pusher({ ...base, cluster: opts.cluster })
    : new Pusher({ ...base, host: opts.host, port: String(opts.port) });
}
