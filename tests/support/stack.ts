/**
 * The whole app as real processes on loopback, each one stoppable on its own: a private Postgres
 * (never the shared one), our realtime server, and the production web server (server/http/serve.ts, so
 * `next build` must have run). The fault tests and `npm run soak` kill and restart these.
 */
import { type ChildProcess, execFileSync, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { REALTIME_BUNDLE } from "../../scripts/build-realtime";

const root = path.resolve(import.meta.dirname, "../..");

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number) {
  const until = Date.now() + timeoutMs;
  while (Date.now() < until) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} was not ready within ${timeoutMs} ms`);
}

/** Whatever is still running when this process exits (a test timed out, Ctrl-C) goes with it. */
const cleanups = new Set<() => void>();
process.once("exit", () => {
  for (const cleanup of cleanups) cleanup();
});
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => process.exit(130));
}

const answers = (url: string) => async () => (await fetch(url, { signal: AbortSignal.timeout(2000) })).ok;

/** A child process in its own process group (tsx starts children of its own): kill takes all. */
export class Managed {
  private child: ChildProcess | null = null;
  readonly logs: string[] = [];
  /** Called with every line the process writes, as it comes (logs keeps only the last 500). */
  readonly lineListeners = new Set<(line: string) => void>();
  constructor(
    readonly name: string,
    private readonly command: string,
    private readonly args: string[],
    private readonly env: NodeJS.ProcessEnv,
    private readonly readyUrl: string,
    private readonly readyTimeoutMs = 60_000,
  ) {}

  get running() {
    return this.child !== null;
  }

  /** The process id while running (the bench reads its CPU and memory). */
  get pid() {
    return this.child?.pid;
  }

  async start() {
    if (this.child) throw new Error(`${this.name} is already running`);
    const child = spawn(this.command, this.args, {
      cwd: root,
      env: this.env,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
    });
    this.child = child;
    const killGroup = () => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {}
    };
    cleanups.add(killGroup);
    // A chunk may end inside a line: its start waits for the rest (per stream).
    const partial = { stdout: "", stderr: "" };
    const keep = (stream: "stdout" | "stderr") => (chunk: Buffer) => {
      const parts = (partial[stream] + chunk.toString()).split("\n");
      partial[stream] = parts.pop() ?? "";
      const lines = parts.filter(Boolean);
      for (const listener of this.lineListeners) for (const line of lines) listener(line);
      this.logs.push(...lines);
      if (this.logs.length > 500) this.logs.splice(0, this.logs.length - 500);
    };
    for (const stream of ["stdout", "stderr"] as const) {
      child[stream]?.on("data", keep(stream));
      // The last line, if the process ended without a newline.
      child[stream]?.on("end", () => keep(stream)(Buffer.from("\n")));
    }
    child.on("exit", () => {
      cleanups.delete(killGroup);
      if (this.child === child) this.child = null;
    });
    await waitFor(
      this.name,
      async () => {
        if (this.child !== child) throw new Error(`${this.name} exited: ${this.logs.slice(-5).join(" | ")}`);
        return answers(this.readyUrl)();
      },
      this.readyTimeoutMs,
    );
  }

  /** SIGKILL by default: the process gets no chance to tidy up, as in a crash. */
  async kill(signal: NodeJS.Signals = "SIGKILL") {
    const child = this.child;
    if (!child?.pid) return;
    const exited = new Promise((r) => child.once("exit", r));
    try {
      process.kill(-child.pid, signal);
    } catch {}
    await exited;
    this.child = null;
  }
}

/** A Postgres cluster of our own in a temp directory: stopping it disturbs nobody else. */
export class PrivatePostgres {
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), "floorline-pg-"));
  private readonly binDir = postgresBinDir();
  readonly url: string;
  constructor(readonly port: number) {
    this.url = `postgres://postgres@127.0.0.1:${port}/postgres`;
    // initdb refuses to run as root: there, run the server binaries as the postgres user.
    if (process.getuid?.() === 0) {
      const uid = Number(execFileSync("id", ["-u", "postgres"]).toString());
      const gid = Number(execFileSync("id", ["-g", "postgres"]).toString());
      fs.chownSync(this.dir, uid, gid);
    }
    cleanups.add(this.cleanup);
    this.pg("initdb", ["-D", this.data, "-A", "trust", "-U", "postgres", "--no-sync"]);
  }

  private readonly cleanup = () => {
    try {
      this.stop();
    } catch {}
    fs.rmSync(this.dir, { recursive: true, force: true });
  };

  private get data() {
    return path.join(this.dir, "data");
  }

  private pg(tool: string, args: string[]) {
    const exe = path.join(this.binDir, tool);
    const [cmd, argv] = process.getuid?.() === 0 ? ["runuser", ["-u", "postgres", "--", exe, ...args]] : [exe, args];
    execFileSync(cmd, argv, { stdio: "pipe" });
  }

  start() {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200`;
    this.pg("pg_ctl", ["-D", this.data, "-o", options, "-l", path.join(this.dir, "log"), "-w", "start"]);
  }

  /** Immediate: connections drop at once, as when the database host goes away. */
  stop() {
    this.pg("pg_ctl", ["-D", this.data, "-m", "immediate", "-w", "stop"]);
  }

  destroy() {
    cleanups.delete(this.cleanup);
    this.cleanup();
  }
}

function postgresBinDir() {
  try {
    return execFileSync("pg_config", ["--bindir"]).toString().trim();
  } catch {
    const base = "/usr/lib/postgresql";
    const newest = fs
      .readdirSync(base)
      .sort((a, b) => Number(b) - Number(a))
      .find((v) => fs.existsSync(path.join(base, v, "bin", "initdb")));
    if (!newest) throw new Error("no Postgres server binaries found (install postgresql)");
    return path.join(base, newest, "bin");
  }
}

export type Stack = {
  postgres: PrivatePostgres;
  realtime: Managed;
  web: Managed;
  url: string;
  /** The web process's environment: a command run with it (`npm run admin`) acts on this stack. */
  env: NodeJS.ProcessEnv;
  stop: () => Promise<void>;
};

/** Postgres on `basePort`, realtime on +1, web on +2; everything started and the demo accounts seeded. */
export async function startStack(
  basePort: number,
  webEnv: Record<string, string> = {},
  /** Extra node flags for the web process (e.g. `--cpu-prof`, which NODE_OPTIONS refuses). */
  webNodeArgs: string[] = [],
  /** Settings for the realtime process only (e.g. REALTIME_MAX_CONNECTIONS for the bench's 10,000 sockets). */
  realtimeEnv: Record<string, string> = {},
): Promise<Stack> {
  const postgres = new PrivatePostgres(basePort);
  const realtimePort = basePort + 1;
  const webPort = basePort + 2;
  const url = `http://localhost:${webPort}`;
  const secret = () => randomBytes(24).toString("hex");
  const shared = {
    ...process.env,
    PUSHER_APP_ID: "floorline-faults",
    PUSHER_KEY: "floorline-faults-key",
    PUSHER_SECRET: secret(),
    REALTIME_HOST: "127.0.0.1",
    REALTIME_PORT: String(realtimePort),
  };
  // The way `npm start` runs it: the bundle `npm run build` made (scripts/build-realtime.ts).
  const realtime = new Managed(
    "realtime",
    process.execPath,
    [REALTIME_BUNDLE],
    { ...shared, ...realtimeEnv },
    `http://127.0.0.1:${realtimePort}/health`,
  );
  // The way `npm start` runs it: Next.js behind our front door (server/http/serve.ts).
  const webProcessEnv: NodeJS.ProcessEnv = {
    ...shared,
    NODE_ENV: "production",
    PORT: String(webPort),
    APP_URL: url,
    DATABASE_URL: postgres.url,
    SEED_DEMO_DATA: "true",
    BETTER_AUTH_SECRET: secret(),
    AUTH_SIGN_IN_LIMIT_PER_MINUTE: "100000",
    // Simulated staff take chats by hand, as in the e2e server.
    AUTO_ASSIGN_CHATS: "false",
    NEXT_PUBLIC_ONESIGNAL_APP_ID: "",
    ONESIGNAL_REST_API_KEY: "",
    ...webEnv,
  };
  const web = new Managed(
    "web",
    process.execPath,
    [...webNodeArgs, "--import", "tsx", "server/http/serve.ts"],
    webProcessEnv,
    `${url}/sign-in`,
    120_000,
  );
  const stop = async () => {
    await Promise.all([web.kill("SIGTERM"), realtime.kill("SIGTERM")]);
    postgres.destroy();
  };
  try {
    postgres.start();
    await realtime.start();
    await web.start();
  } catch (err) {
    await stop();
    throw err;
  }
  return { postgres, realtime, web, url, env: webProcessEnv, stop };
}
