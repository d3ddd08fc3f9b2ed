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
 * The official `pusher` SDK, configured for ours, Soketi (host/port) or hosted Pusher (cluster):
 * the app publishes the same way whichever is behind it. A keep-alive agent saves a TCP
 * handshake per publish.
 */
export function createPublisher(opts: PublisherOptions): Pusher {
  const agent = opts.useTLS ? new https.Agent({ keepAlive: true }) : new http.Agent({ keepAlive: true });
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
