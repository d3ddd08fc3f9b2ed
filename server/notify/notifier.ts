import { oneSignalConfigFromEnv } from "./config";
import { createOneSignalClient, type OneSignalClient, type PushMessage } from "./onesignal";

export { ONESIGNAL_ENV_VARS, type OneSignalConfig, oneSignalConfigFromEnv } from "./config";
export {
  CHAT_PUSH_TTL_SECONDS,
  escalationNotification,
  newMessageNotification,
  newRequestNotification,
  staffRequestUrl,
} from "./messages";
export type { PushMessage } from "./onesignal";

/**
 * What the chat domain calls after a commit. `enqueue` only puts the push on an in-memory queue
 * and returns; a few background workers talk to OneSignal. Nothing here can slow down or fail a
 * chat request: the message is already stored and delivered live, the push is a courtesy.
 *
 * In memory on purpose: pushes are worthless minutes later, so surviving a restart is not worth
 * a table. A restart drops what is queued (logged by `stop()`).
 */
export type Notifier = {
  /** Returns at once; never throws. Dropped when push is off or the notifier is stopped. */
  enqueue(message: PushMessage): void;
  /** Resolves when nothing is queued or being sent. */
  idle(): Promise<void>;
  /** Stops taking work, drops the queue, abandons sends in flight; resolves when they let go. */
  stop(): Promise<void>;
  stats(): NotifierStats;
};

export type NotifierStats = { enabled: boolean; queued: number; active: number; dropped: number };

export type NotifierOptions = {
  /** null → push is off: a no-op that says so once. */
  client: Pick<OneSignalClient, "send"> | null;
  log?: (line: string) => void;
  /** Why `client` is null, for the one log line. */
  disabledReason?: string;
  /** Pushes waiting beyond this many drop the oldest (OneSignal down for a while: newest matter). */
  maxQueue?: number;
  /** Sends in flight at once. */
  concurrency?: number;
  /** A push still queued this long after it was asked for is dropped: the moment has passed. */
  maxAgeMs?: number;
};

/** About two minutes: a chat alert older than that is noise (someone answered, or the player left). */
export const PUSH_MAX_AGE_MS = 120_000;

export function createNotifier(options: NotifierOptions): Notifier {
  const { client, log = console.error, maxQueue = 500, concurrency = 2, maxAgeMs = PUSH_MAX_AGE_MS } = options;
  const say = (line: string) => {
    try {
      log(line);
    } catch {
      // A broken logger must not reach the caller of enqueue.
    }
  };

  if (!client) {
    say(`[push] staff push notifications are disabled: ${options.disabledReason ?? "OneSignal is not configured"}`);
    return {
      enqueue() {},
      idle: () => Promise.resolve(),
      stop: () => Promise.resolve(),
      stats: () => ({ enabled: false, queued: 0, active: 0, dropped: 0 }),
    };
  }

  const queue: { message: PushMessage; queuedAt: number }[] = [];
  const waiters: (() => void)[] = [];
  const stopping = new AbortController();
  let active = 0;
  let scheduled = false;
  let stopped = false;
  let dropped = 0;
  let droppedThisSpell = 0;
  // OneSignal asked us (Retry-After) to send nothing before this time.
  let pausedUntil = 0;
  let pauseTimer: ReturnType<typeof setTimeout> | undefined;

  const isIdle = () => queue.length === 0 && active === 0 && !scheduled && pauseTimer === undefined;
  const idle = () => (isIdle() ? Promise.resolve() : new Promise<void>((resolve) => waiters.push(resolve)));

  function settle() {
    if (!isIdle()) return;
    if (droppedThisSpell > 0) {
      say(`[push] queue drained; ${droppedThisSpell} notification(s) were dropped while it was full`);
      droppedThisSpell = 0;
    }
    for (const resolve of waiters.splice(0)) resolve();
  }

  // Deferred to a later turn of the event loop, so even building the request body (up to 2,000
  // ids) happens after the caller has moved on.
  function schedule() {
    if (scheduled) return;
    scheduled = true;
    setImmediate(pump);
  }

  function pump() {
    scheduled = false;
    const wait = pausedUntil - Date.now();
    if (wait > 0 && !stopped) {
      if (pauseTimer === undefined && queue.length > 0) {
        pauseTimer = setTimeout(() => {
          pauseTimer = undefined;
          pump();
        }, wait);
      }
      return settle();
    }
    while (!stopped && active < concurrency) {
      const item = queue.shift();
      if (!item) break;
      if (Date.now() - item.queuedAt > maxAgeMs) {
        dropped++;
        if (droppedThisSpell++ === 0) say(`[push] dropping notifications queued more than ${maxAgeMs / 1000} s ago`);
        continue;
      }
      active++;
      void deliver(item).finally(() => {
        active--;
        pump();
      });
    }
    settle();
  }

  async function deliver(item: (typeof queue)[number]) {
    try {
      // The client logs its own failures and resolves; this only guards against a client bug.
      const report = await client?.send(item.message, { signal: stopping.signal });
      const deferred = report?.batches.find((b) => b.status === "deferred");
      if (deferred?.status === "deferred" && !stopped) {
        // Honour OneSignal's pause for the whole queue; this push waits at the front (or goes stale).
        pausedUntil = Math.max(pausedUntil, Date.now() + deferred.retryAfterMs);
        queue.unshift(item);
      }
    } catch (err) {
      say(`[push] ${item.message.kind} push failed: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  return {
    enqueue(message) {
      try {
        if (stopped || !message) return;
        if (queue.length >= maxQueue) {
          queue.shift();
          dropped++;
          if (droppedThisSpell++ === 0) {
            say(`[push] queue full (${maxQueue}); dropping the oldest notifications until OneSignal catches up`);
          }
        }
        queue.push({ message, queuedAt: Date.now() });
        schedule();
      } catch (err) {
        say(`[push] could not queue a push: ${err instanceof Error ? err.message : String(err)}`);
      }
    },

    idle,

    async stop() {
      if (!stopped) {
        stopped = true;
        clearTimeout(pauseTimer);
        pauseTimer = undefined;
        const queued = queue.splice(0).length;
        if (queued + active > 0) {
          say(`[push] stopping: dropped ${queued} queued and abandoned ${active} in-flight notification(s)`);
        }
        stopping.abort();
      }
      return idle();
    },

    stats: () => ({ enabled: true, queued: queue.length, active, dropped }),
  };
}

/**
 * The notifier the app uses, from ONESIGNAL_* variables. Push off (no app id or key) → a no-op
 * that logs one line saying so; a malformed variable → throws naming it (at start-up).
 */
export function createNotifierFromEnv(
  env: Record<string, string | undefined> = process.env,
  options: Omit<NotifierOptions, "client" | "disabledReason"> & {
    client?: Omit<Parameters<typeof createOneSignalClient>[0], "appId" | "apiKey" | "baseUrl" | "timeoutMs" | "log">;
  } = {},
): Notifier {
  const config = oneSignalConfigFromEnv(env);
  const { client: clientOptions, ...notifierOptions } = options;
  if (!config.enabled) return createNotifier({ ...notifierOptions, client: null, disabledReason: config.reason });
  const client = createOneSignalClient({
    ...clientOptions,
    appId: config.appId,
    apiKey: config.apiKey,
    baseUrl: config.baseUrl,
    timeoutMs: config.timeoutMs,
    log: notifierOptions.log,
  });
  return createNotifier({ ...notifierOptions, client });
}
