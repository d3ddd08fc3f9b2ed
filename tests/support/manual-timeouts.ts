/**
 * Timeouts that expire only when the test says so, for `startTimeout` of the OneSignal client: a
 * request to the local stand-in is then cut exactly when the test has seen it arrive, never
 * before (a real timer shares the event loop with the stand-in and, under load, fired first).
 */
export type ManualTimeouts = {
  start: (ms: number, onTimeout: () => void) => () => void;
  /** Timeouts started and not yet cancelled or expired. */
  readonly pending: number;
  /** Expires every pending timeout, as if its time had come. */
  expire(): void;
};

export function manualTimeouts(): ManualTimeouts {
  const pending = new Set<() => void>();
  return {
    start(_ms, onTimeout) {
      const entry = () => onTimeout();
      pending.add(entry);
      return () => pending.delete(entry);
    },
    get pending() {
      return pending.size;
    },
    expire() {
      const due = [...pending];
      pending.clear();
      for (const fire of due) fire();
    },
  };
}
