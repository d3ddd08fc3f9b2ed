/**
 * Elects one leader among the open staff tabs of this browser, over BroadcastChannel, so that a
 * new chat rings once and not once per tab. Every tab announces itself each `heartbeatMs`; the
 * tab with the lowest id among those heard recently leads. A closing tab says goodbye, so the
 * next leader takes over at once instead of after the silence.
 */
type Message = { type: "hello" | "bye"; id: string };

export type ChannelLike = {
  postMessage(message: Message): void;
  addEventListener(type: "message", listener: (event: { data: Message }) => void): void;
  removeEventListener(type: "message", listener: (event: { data: Message }) => void): void;
  close(): void;
};

export class TabLeaderElection {
  private readonly peers = new Map<string, number>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private leading = false;

  constructor(
    private readonly opts: {
      id: string;
      channel: ChannelLike;
      heartbeatMs?: number;
      now?: () => number;
      onChange?: (isLeader: boolean) => void;
    },
  ) {}

  private get heartbeatMs() {
    return this.opts.heartbeatMs ?? 1000;
  }

  private readonly listener = (event: { data: Message }) => {
    const message = event.data;
    if (!message || message.id === this.opts.id) return;
    if (message.type === "hello") this.peers.set(message.id, this.now());
    else this.peers.delete(message.id);
    this.evaluate();
  };

  private now() {
    return this.opts.now?.() ?? Date.now();
  }

  start() {
    this.opts.channel.addEventListener("message", this.listener);
    this.beat();
    this.timer = setInterval(() => this.beat(), this.heartbeatMs);
    return this;
  }

  stop() {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.opts.channel.postMessage({ type: "bye", id: this.opts.id });
    this.opts.channel.removeEventListener("message", this.listener);
    this.opts.channel.close();
  }

  isLeader() {
    return this.leading;
  }

  private beat() {
    this.opts.channel.postMessage({ type: "hello", id: this.opts.id });
    this.evaluate();
  }

  /** Leader = lowest id among this tab and the peers heard within three heartbeats. */
  private evaluate() {
    const cutoff = this.now() - this.heartbeatMs * 3;
    for (const [id, seen] of this.peers) if (seen < cutoff) this.peers.delete(id);
    const lowest = [this.opts.id, ...this.peers.keys()].sort()[0];
    const leading = lowest === this.opts.id;
    if (leading !== this.leading) {
      this.leading = leading;
      this.opts.onChange?.(leading);
    }
  }
}
