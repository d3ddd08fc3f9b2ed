/**
 * Idempotency keys of recently published events, so a publisher that retries an unanswered
 * request (server/chat/gateway.ts) does not hand sockets the same event twice. Bounded twice:
 * keys older than `ttlMs` are forgotten, and beyond `max` the oldest goes first, so no publisher
 * (they are all signed) can grow it without limit. A Map keeps insertion order: the oldest is
 * always first, which makes both bounds a walk from the front.
 */
export class RecentKeys {
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly max: number,
    private readonly ttlMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /** True the first time `key` is offered within the window; false for a repeat. */
  firstTime(key: string): boolean {
    const now = this.now();
    for (const [old, at] of this.seen) {
      if (now - at < this.ttlMs) break;
      this.seen.delete(old);
    }
    if (this.seen.has(key)) return false;
    // One key in, at most one out: the size never passes `max`.
    if (this.seen.size >= this.max) this.seen.delete(this.seen.keys().next().value as string);
    this.seen.set(key, now);
    return true;
  }

  /** Un-records `key`: the event it was taken for was not handed out after all. */
  forget(key: string) {
    this.seen.delete(key);
  }

  /** Hand-outs under way by key, so a repeat arriving meanwhile can wait for the outcome. */
  private readonly handingOut = new Map<string, Promise<unknown>>();

  /** Notes `work` as `key`'s hand-out until it settles; returns it. */
  handOut<T>(key: string, work: Promise<T>): Promise<T> {
    this.handingOut.set(key, work);
    const done = () => {
      if (this.handingOut.get(key) === work) this.handingOut.delete(key);
    };
    work.then(done, done);
    return work;
  }

  /** Settles as `key`'s hand-out under way does (at once when none is): a failure rejects. */
  handedOut(key: string): Promise<unknown> {
    return this.handingOut.get(key) ?? Promise.resolve();
  }

  get size() {
    return this.seen.size;
  }
}
