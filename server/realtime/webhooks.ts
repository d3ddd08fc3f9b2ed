import type { Metrics } from "./metrics";
import { hmacSha256Hex } from "./signature";

export type WebhookEvent =
  | { name: "channel_occupied" | "channel_vacated"; channel: string }
  | { name: "member_added" | "member_removed"; channel: string; user_id: string }
  | { name: "client_event"; channel: string; event: string; data: string; socket_id: string; user_id?: string };

/** Bounds on what an unreachable webhook endpoint can make us hold. */
const MAX_PENDING_EVENTS = 10_000;
const MAX_BATCHES_IN_FLIGHT = 100;

/**
 * Collects webhook events for `batchMs` and POSTs them as one signed `{ time_ms, events }`.
 * A failed delivery is retried with exponential back-off, then dropped with a log line. Past
 * the bounds above, new events and batches are dropped (counted in /metrics) instead of queued.
 */
export class Webhooks {
  private pending: WebhookEvent[] = [];
  private timer: ReturnType<typeof setTimeout> | null = null;
  private inFlight = new Set<Promise<void>>();
  private retryTimers = new Set<ReturnType<typeof setTimeout>>();

  constructor(
    private readonly opts: {
      url: string | null;
      key: string;
      secret: string;
      batchMs: number;
      attempts: number;
      backoffMs: number;
      metrics: Metrics;
      log: (msg: string) => void;
    },
  ) {}

  add(event: WebhookEvent) {
    if (!this.opts.url) return;
    if (this.pending.length >= MAX_PENDING_EVENTS) {
      this.opts.metrics.webhooksDropped++;
      return;
    }
    this.pending.push(event);
    this.timer ??= setTimeout(() => this.flush(), this.opts.batchMs);
  }

  flush() {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.pending.length === 0) return;
    const events = this.pending;
    this.pending = [];
    if (this.inFlight.size + this.retryTimers.size >= MAX_BATCHES_IN_FLIGHT) {
      this.opts.metrics.webhooksDropped += events.length;
      return;
    }
    this.deliver(JSON.stringify({ time_ms: Date.now(), events }), 1);
  }

  private deliver(body: string, attempt: number) {
    const url = this.opts.url;
    if (!url) return;
    const sending = fetch(url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "x-pusher-key": this.opts.key,
        "x-pusher-signature": hmacSha256Hex(this.opts.secret, body),
      },
      body,
      signal: AbortSignal.timeout(5000),
    })
      .then((res) => {
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        this.opts.metrics.webhooksSent++;
      })
      .catch((err: Error) => {
        if (attempt >= this.opts.attempts) {
          this.opts.metrics.webhooksFailed++;
          this.opts.log(`[realtime] webhook dropped after ${attempt} attempts: ${err.message}`);
          return;
        }
        const timer = setTimeout(
          () => {
            this.retryTimers.delete(timer);
            this.deliver(body, attempt + 1);
          },
          this.opts.backoffMs * 2 ** (attempt - 1),
        );
        this.retryTimers.add(timer);
      })
      .finally(() => this.inFlight.delete(sending));
    this.inFlight.add(sending);
  }

  /** Sends what is queued and stops retrying (shutdown). */
  async close() {
    this.flush();
    for (const timer of this.retryTimers) clearTimeout(timer);
    this.retryTimers.clear();
    await Promise.allSettled([...this.inFlight]);
  }
}
