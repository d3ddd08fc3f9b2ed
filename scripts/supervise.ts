/**
 * The supervisor behind `npm start` / `npm run dev`: it keeps each child running. A child that
 * dies after it has been up is restarted with back-off (0.5 s doubling to 10 s, back to 0.5 s
 * once it has run a minute), with one log line naming the exit. A child that dies before it
 * ever came up is a start-up error (bad settings, port taken): everything stops with its code,
 * so the first `npm start` fails loudly instead of looping. Only `stop()` (SIGINT / SIGTERM)
 * stops the children for good.
 */
import { type ChildProcess, spawn } from "node:child_process";
import net from "node:net";

export type ChildSpec = {
  name: string;
  command: string;
  args: string[];
  env?: NodeJS.ProcessEnv;
  /** The child is up once it accepts connections here. */
  listens: { host: string; port: number };
};

export type SuperviseOptions = {
  firstDelayMs?: number;
  maxDelayMs?: number;
  /** A child that ran this long before exiting starts over at `firstDelayMs`. */
  healthyAfterMs?: number;
  /** How long a child may take to listen the first time. */
  startTimeoutMs?: number;
  log?: (line: string) => void;
  /** Called once everything has stopped, with the exit code for the supervisor. */
  onStopped?: (code: number) => void;
};

/** The wait before the next restart, given the last one and how long the child ran. */
export function nextDelay(lastDelayMs: number | null, ranMs: number, opts: Required<SuperviseOptions>) {
  if (lastDelayMs === null || ranMs >= opts.healthyAfterMs) return opts.firstDelayMs;
  return Math.min(lastDelayMs * 2, opts.maxDelayMs);
}

const exitReason = (code: number | null, signal: NodeJS.Signals | null) =>
  signal ? `killed by ${signal}` : `exit code ${code}`;

type Supervised = {
  spec: ChildSpec;
  child: ChildProcess | null;
  startedAt: number;
  up: boolean;
  lastDelayMs: number | null;
  restarts: number;
  timer: ReturnType<typeof setTimeout> | null;
};

export function createSupervisor(options: SuperviseOptions = {}) {
  const opts: Required<SuperviseOptions> = {
    firstDelayMs: 500,
    maxDelayMs: 10_000,
    healthyAfterMs: 60_000,
    startTimeoutMs: 120_000,
    log: (line) => console.error(line),
    onStopped: (code) => process.exit(code),
    ...options,
  };
  const all: Supervised[] = [];
  let stopping = false;

  function launch(entry: Supervised) {
    const child = spawn(entry.spec.command, entry.spec.args, { stdio: "inherit", env: entry.spec.env ?? process.env });
    entry.child = child;
    entry.startedAt = Date.now();
    child.on("error", (err) => opts.log(`[floorline] ${entry.spec.name} could not start: ${err.message}`));
    child.on("exit", (code, signal) => {
      entry.child = null;
      if (stopping) return;
      if (!entry.up) {
        opts.log(`[floorline] ${entry.spec.name} stopped during start-up (${exitReason(code, signal)}); stopping.`);
        return stop(code || 1);
      }
      const ranMs = Date.now() - entry.startedAt;
      const delay = nextDelay(entry.lastDelayMs, ranMs, opts);
      entry.lastDelayMs = delay;
      entry.restarts++;
      opts.log(
        `[floorline] ${entry.spec.name} ${exitReason(code, signal)} after ${(ranMs / 1000).toFixed(1)} s; ` +
          `restart ${entry.restarts} in ${delay / 1000} s`,
      );
      entry.timer = setTimeout(() => {
        entry.timer = null;
        if (!stopping) launch(entry);
      }, delay);
    });
  }

  /** Starts a child and resolves once it listens (rejects, and stops all, if it never does). */
  async function start(spec: ChildSpec) {
    const entry: Supervised = {
      spec,
      child: null,
      startedAt: 0,
      up: false,
      lastDelayMs: null,
      restarts: 0,
      timer: null,
    };
    all.push(entry);
    launch(entry);
    const until = Date.now() + opts.startTimeoutMs;
    while (!stopping && Date.now() < until) {
      if (await accepts(spec.listens)) {
        entry.up = true;
        return;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    if (!stopping) {
      const { host, port } = spec.listens;
      opts.log(`[floorline] ${spec.name} did not listen on ${host}:${port} within ${opts.startTimeoutMs / 1000} s`);
      stop(1);
    }
    throw new Error(`${spec.name} did not start`);
  }

  /** Stops every child (SIGTERM, then SIGKILL after 5 s) and reports the code once all are gone. */
  function stop(code: number) {
    if (stopping) return;
    stopping = true;
    for (const entry of all) {
      if (entry.timer) clearTimeout(entry.timer);
      entry.child?.kill("SIGTERM");
    }
    const running = all.flatMap((e) => (e.child ? [e.child] : []));
    const deadline = setTimeout(() => {
      for (const child of running) if (child.exitCode === null) child.kill("SIGKILL");
    }, 5000);
    deadline.unref();
    Promise.all(
      running.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once("exit", r)) : null)),
    ).then(() => {
      clearTimeout(deadline);
      opts.onStopped(code);
    });
  }

  return {
    start,
    stop,
    /** The running process of a child (tests kill it). */
    pidOf: (name: string) => all.find((e) => e.spec.name === name)?.child?.pid,
  };
}

function accepts({ host, port }: { host: string; port: number }) {
  return new Promise<boolean>((resolve) => {
    const socket = net.connect(port, host);
    socket.setTimeout(2000);
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once("connect", () => done(true));
    socket.once("error", () => done(false));
    socket.once("timeout", () => done(false));
  });
}
