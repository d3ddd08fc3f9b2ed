import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { openPglite } from "@/db/client";

const tsx = path.join(process.cwd(), "node_modules", ".bin", "tsx");
const run = (env: Record<string, string>) =>
  spawnSync(tsx, ["db/seed-cli.ts", "--migrate-only"], {
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", NODE_ENV: "test", ...env },
    encoding: "utf8",
    timeout: 60_000,
  });

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "floorline-startup-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("start-up errors", () => {
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
});
