/** Counters for GET /metrics (Prometheus text format). */
export class Metrics {
  connectionsTotal = 0;
  messagesIn = 0;
  messagesOut = 0;
  httpRequests = 0;
  httpErrors = 0;
  webhooksSent = 0;
  webhooksFailed = 0;
  webhooksDropped = 0;
  /** Connections closed with 4100 because they stopped reading. */
  overCapacity = 0;
  /** Errors in our own handling of one connection or request (each closed that one only). */
  internalErrors = 0;

  render(gauges: { connections: number; channels: number; cacheChannels: number; bufferedBytes: number }) {
    const lines = [
      ["realtime_connections", "gauge", gauges.connections],
      ["realtime_channels", "gauge", gauges.channels],
      ["realtime_cache_channels", "gauge", gauges.cacheChannels],
      ["realtime_buffered_bytes", "gauge", gauges.bufferedBytes],
      ["realtime_connections_total", "counter", this.connectionsTotal],
      ["realtime_ws_messages_in_total", "counter", this.messagesIn],
      ["realtime_ws_messages_out_total", "counter", this.messagesOut],
      ["realtime_http_requests_total", "counter", this.httpRequests],
      ["realtime_http_errors_total", "counter", this.httpErrors],
      ["realtime_webhooks_sent_total", "counter", this.webhooksSent],
      ["realtime_webhooks_failed_total", "counter", this.webhooksFailed],
      ["realtime_webhooks_dropped_total", "counter", this.webhooksDropped],
      ["realtime_over_capacity_total", "counter", this.overCapacity],
      ["realtime_internal_errors_total", "counter", this.internalErrors],
    ] as const;
    return `${lines.map(([name, type, value]) => `# TYPE ${name} ${type}\n${name} ${value}`).join("\n")}\n`;
  }
}
