import { type ChildProcess, spawn } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import PusherServer from "pusher";
import { afterAll, beforeAll, expect } from "vitest";
import { APP, connectClient, subscribed } from "../support/realtime";

/**
 * Our realtime server as `npm run realtime` runs it: its own process on a free port, so an
 * attack that kills it shows up as an exit instead of taking the test runner down with it.
 */
export type RealtimeProcess = {
  port: number;
  url: string;
  sdk: PusherServer;
  child: ChildProcess;
  /** Everything the process wrote to stdout and stderr. */
  output: () => string;
  /** Set once the process has exited. */
  exit: { code: number | null; signal: NodeJS.Signals | null } | null;
  /** Resident memory of the server process, from /proc. */
  rss: () => number;
  /** The server's own process (tsx runs it as a child node process): what a SIGKILL must hit. */
  serverPid: () => number;
  stop: () => Promise<void>;
};

const tsx = path.join(process.cwd(), "node_modules", ".bin", "tsx");

/**
 * Every process spawned here that has not exited. A test that times out while its server is still
 * starting never gets the handle it would stop, so the file's end stops what is left: a CI run at
 * load 25 left a server listening after attacks.test.ts timed out in `spawnRealtime`. Each runs
 * in a process group of its own, so one signal reaches tsx and the server it runs (tsx cannot pass
 * a SIGKILL on).
 */
const running = new Set<ChildProcess>();
afterAll(() => {
  for (const child of running) {
    try {
      process.kill(-(child.pid as number), "SIGKILL");
    } catch {
      // exited meanwhile
    }
  }
});

/** `command` defaults to the sources through tsx; `[process.execPath, bundle]` runs a build's bundle. */
export async function spawnRealtime(
  env: Record<string, string> = {},
  command: [string, ...string[]] = [tsx, "server/realtime/main.ts"],
): Promise<RealtimeProcess> {
  const child = spawn(command[0], command.slice(1), {
    env: {
      PATH: process.env.PATH ?? "",
      HOME: process.env.HOME ?? "",
      NODE_ENV: "test",
      PUSHER_APP_ID: APP.appId,
      PUSHER_KEY: APP.key,
      PUSHER_SECRET: APP.secret,
      REALTIME_HOST: "127.0.0.1",
      REALTIME_PORT: "0",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true,
  });
  running.add(child);
  child.once("exit", () => running.delete(child));
  let output = "";
  child.stdout?.on("data", (d) => {
    output += d;
  });
  child.stderr?.on("data", (d) => {
    output += d;
  });
  const proc: RealtimeProcess = {
    port: 0,
    url: "",
    sdk: undefined as unknown as PusherServer,
    child,
    output: () => output,
    exit: null,
    serverPid: () => {
      const kids = fs.readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, "utf8").trim().split(/\s+/);
      return Number(kids.at(-1) || child.pid);
    },
    rss: () =>
      Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${proc.serverPid()}/status`, "utf8"))?.[1]) * 1024,
    stop: async () => {
      if (proc.exit) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await exited;
    },
  };
  child.once("exit", (code, signal) => {
    proc.exit = { code, signal };
  });
  proc.port = await new Promise<number>((resolve, reject) => {
    const onData = () => {
      const match = /server on ws:\/\/[^:]+:(\d+)\//.exec(output);
      if (match) resolve(Number(match[1]));
    };
    child.stdout?.on("data", onData);
    child.once("exit", () => reject(new Error(`realtime server exited at start:\n${output}`)));
  });
  proc.url = `http://127.0.0.1:${proc.port}`;
  proc.sdk = new PusherServer({ ...APP, host: "127.0.0.1", port: String(proc.port), useTLS: false });
  return proc;
}

/** One server process for the whole file, stopped after it. */
export function realtimeProcessPerFile(env: Record<string, string> = {}) {
  let current: RealtimeProcess | undefined;
  beforeAll(async () => {
    current = await spawnRealtime(env);
  });
  afterAll(async () => {
    await current?.stop();
  });
  return () => {
    if (!current) throw new Error("the realtime process has not started");
    return current;
  };
}

/**
 * The outcome every attack test ends with: the process is still running, answers /health, and a
 * fresh official client (pusher-js) still connects and subscribes to a private channel.
 */
export async function expectStillServing(rt: RealtimeProcess) {
  expect(rt.exit, `the server exited; it wrote:\n${rt.output()}`).toBeNull();
  const health = await fetch(`${rt.url}/health`);
  expect(health.status).toBe(200);
  const client = connectClient(rt);
  try {
    const channel = await subscribed(client, "private-still-serving");
    expect(channel.subscribed).toBe(true);
  } finally {
    client.disconnect();
  }
}

/** Writes raw bytes to the server and collects what comes back: up to the end of the response headers, until it closes, or for `ms`. */
export function rawExchange(port: number, bytes: string | Buffer, ms = 2000) {
  return new Promise<string>((resolve) => {
    const socket = net.connect(port, "127.0.0.1");
    let answer = "";
    const done = () => {
      clearTimeout(timer);
      socket.destroy();
      resolve(answer);
    };
    const timer = setTimeout(done, ms);
    socket.on("data", (d) => {
      answer += d.toString("latin1");
      if (answer.includes("\r\n\r\n")) done();
    });
    socket.on("error", () => {});
    socket.on("close", () => {
      clearTimeout(timer);
      resolve(answer);
    });
    socket.write(bytes);
  });
}
