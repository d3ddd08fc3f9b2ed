/** Counters for GET /metrics (Prometheus text format). */
export class Metrics {
  connectionsTotal = 0;
  messagesIn = 0;
  messagesOut = 0;
  httpRequests = 0;
  httpErrors = 0;
  webhooksSent = 0;
  webhooksFailed = 0;

  render(gauges: { connections: number; channels: number }) {
    const lines = [
      ["realtime_connections", "gauge", gauges.connections],
      ["realtime_channels", "gauge", gauges.channels],
      ["realtime_connections_total", "counter", this.connectionsTotal],
      ["realtime_ws_messages_in_total", "counter", this.messagesIn],
      ["realtime_ws_messages_out_total", "counter", this.messagesOut],
      ["realtime_http_requests_total", "counter", this.httpRequests],
      ["realtime_http_errors_total", "counter", this.httpErrors],
      ["realtime_webhooks_sent_total", "counter", this.webhooksSent],
      ["realtime_webhooks_failed_total", "counter", this.webhooksFailed],
    ] as const;
    return `${lines.map(([name, type, value]) => `# TYPE ${name} ${type}\n${name} ${value}`).join("\n")}\n`;
  }
}
