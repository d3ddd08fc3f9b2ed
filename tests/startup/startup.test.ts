import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openPglite } from "@/db/client";
import { DEFAULT_AUTH_SECRET, embeddedSecretsFile, secretsForChildren } from "@/server/secrets";

const tsx = path.join(process.cwd(), "node_modules", ".bin", "tsx");
const run = (env: Record<string, string>) =>
  spawnSync(tsx, ["db/seed-cli.ts", "--migrate-only"], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", NODE_ENV: "test", ...STRONG, ...env },
    encoding: "utf8",
    timeout: 60_000,
  });

/** A deployment (DATABASE_URL set) must bring secrets of its own. */
const STRONG = { BETTER_AUTH_SECRET: "x".repeat(40), PUSHER_SECRET: "y".repeat(24) };

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "floorline-startup-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

// Each test starts child processes (tsx, given 60 s each by `run`) or a new PGlite (initdb):
// vitest's 20 s per test was less than one child's own allowance, and at load 17 two of these
// took 33 s (failed in 2 full runs of 2). The limit is what the children are allowed.
describe("start-up errors", { timeout: 180_000 }, () => {
  it("names DATABASE_URL in one line when the database cannot be reached, and exits non-zero", () => {
    const result = run({ DATABASE_URL: "postgres://postgres@127.0.0.1:1/nowhere" });
    expect(result.status).toBe(1);
    expect(result.stderr.trim()).toBe(
      "Cannot use the database at DATABASE_URL (postgres://postgres@127.0.0.1:1/nowhere): connect ECONNREFUSED 127.0.0.1:1",
    );
  });

  it("names each malformed variable", () => {
    const result = run({ DATABASE_URL: "mysql://elsewhere", PORT: "eighty" });
    expect(result.status).not.toBe(0);
    expect(result.stderr).toContain("Invalid configuration");
    expect(result.stderr).toMatch(/^\s+DATABASE_URL: must be a postgres:\/\/ or postgresql:\/\/ URL$/m);
    expect(result.stderr).toMatch(/^\s+PORT: /m);
  });

  it("refuses an embedded database directory another process holds", () => {
    const dir = path.join(tmp, "pglite");
    fs.mkdirSync(dir, { recursive: true });
    // The lock names a live process that is not this one: our parent.
    fs.writeFileSync(`${dir}.lock`, String(process.ppid));
    expect(() => openPglite(dir)).toThrow(`in use by another process (pid ${process.ppid})`);
  });

  it("takes over a lock left by a process that is gone", async () => {
    const dir = path.join(tmp, "stale");
    fs.mkdirSync(dir, { recursive: true });
    const gone = spawnSync(process.execPath, ["-e", "process.pid"]).pid;
    fs.writeFileSync(`${dir}.lock`, String(gone));
    const handle = openPglite(dir);
    expect(fs.readFileSync(`${dir}.lock`, "utf8")).toBe(String(process.pid));
    await handle.close();
    expect(fs.existsSync(`${dir}.lock`)).toBe(false);
  });

  it("refuses a deployment's missing, default or short secret with one line naming each", () => {
    const url = "postgres://postgres@127.0.0.1:1/nowhere";
    const missing = run({ DATABASE_URL: url, BETTER_AUTH_SECRET: "", PUSHER_SECRET: "" });
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/^\s+BETTER_AUTH_SECRET: must be set when DATABASE_URL is set/m);
    expect(missing.stderr).toMatch(/^\s+PUSHER_SECRET: must be set when DATABASE_URL is set/m);
    const weak = run({ DATABASE_URL: url, BETTER_AUTH_SECRET: DEFAULT_AUTH_SECRET, PUSHER_SECRET: "short" });
    expect(weak.stderr).toMatch(/^\s+BETTER_AUTH_SECRET: is the public default/m);
    expect(weak.stderr).toMatch(/^\s+PUSHER_SECRET: must be at least 20 characters$/m);
    const defaultPusher = run({ DATABASE_URL: url, PUSHER_SECRET: "floorline-secret" });
    expect(defaultPusher.stderr).toMatch(/^\s+PUSHER_SECRET: is the public default/m);
  });

  it("the embedded mode generates strong secrets once and keeps them, mode 0600, beside its data", () => {
    const file = embeddedSecretsFile(path.join(tmp, "embedded", "pglite"));
    expect(file).toBe(path.join(tmp, "embedded", "pglite.secrets.json"));
    const first = secretsForChildren({ PGLITE_DATA_DIR: path.join(tmp, "embedded", "pglite") });
    expect(first.BETTER_AUTH_SECRET).toMatch(/^[\w-]{43}$/);
    expect(first.PUSHER_SECRET).toMatch(/^[\w-]{43}$/);
    expect(first.BETTER_AUTH_SECRET).not.toBe(first.PUSHER_SECRET);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    expect(secretsForChildren({ PGLITE_DATA_DIR: path.join(tmp, "embedded", "pglite") })).toEqual(first);
    // A secret set in env wins and is not written down.
    const mine = secretsForChildren({ PGLITE_DATA_DIR: path.join(tmp, "embedded", "pglite"), PUSHER_SECRET: "mine" });
    expect(mine).toEqual({ ...first, PUSHER_SECRET: "mine" });
    expect(fs.readFileSync(file, "utf8")).not.toContain("mine");
  });

  it("the supervisor refuses a deployment without secrets before starting anything", () => {
    expect(() => secretsForChildren({ DATABASE_URL: "postgres://db/floorline" })).toThrow(
      /BETTER_AUTH_SECRET: must be set[\s\S]*PUSHER_SECRET: must be set/,
    );
    expect(secretsForChildren({ DATABASE_URL: "postgres://db/floorline", ...STRONG })).toEqual({});
  });
});
