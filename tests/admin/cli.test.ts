import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { verifyPassword } from "better-auth/crypto";
import { eq } from "drizzle-orm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { DbHandle } from "@/db/client";
import { account, players, staff, user } from "@/db/schema";
import { runAdminCommand } from "@/server/admin/cli";
import { openTestDb } from "../support/db";

describe("npm run admin", () => {
  let handle: DbHandle;
  beforeAll(async () => {
    handle = await openTestDb("pglite");
  });
  afterAll(async () => {
    await handle?.close();
  });

  async function run(...argv: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runAdminCommand(handle.db, argv, { out: (l) => out.push(l), err: (l) => err.push(l) });
    return { code, out: out.join("\n"), err: err.join("\n") };
  }

  it("create-admin prints a temporary password that signs in and must be changed", async () => {
    const r = await run("create-admin", "boss@club.test", "--name", "The Boss");
    expect(r.code).toBe(0);
    expect(r.out).toContain("Created admin boss@club.test (The Boss).");
    const temp = /Temporary password: (\S+)/.exec(r.out)?.[1] ?? "";
    const [row] = await handle.db.select().from(user).where(eq(user.email, "boss@club.test"));
    expect(row).toMatchObject({ role: "admin", mustChangePassword: true });
    const [cred] = await handle.db
      .select()
      .from(account)
      .where(eq(account.userId, row?.id ?? ""));
    expect(await verifyPassword({ hash: cred?.password ?? "", password: temp })).toBe(true);
    // Admins work the floor too (take-over), so they get a staff row.
    expect(
      await handle.db
        .select()
        .from(staff)
        .where(eq(staff.userId, row?.id ?? "")),
    ).toHaveLength(1);
  });

  it("create-staff with a chosen password needs no change", async () => {
    const r = await run("create-staff", "floor@club.test", "--password", "chosen-password-1");
    expect(r).toMatchObject({ code: 0, out: "Created staff floor@club.test (floor)." });
    const [row] = await handle.db.select().from(user).where(eq(user.email, "floor@club.test"));
    expect(row).toMatchObject({ role: "staff", mustChangePassword: false });
  });

  it("create-player --id keeps the club's Player ID; a taken one and a duplicate email are refused", async () => {
    expect((await run("create-player", "p29@club.test", "--id", "29", "--name", "Ravi")).out).toContain(
      "with Player ID 29",
    );
    const [p] = await handle.db.select().from(players).where(eq(players.id, 29));
    expect(p?.displayName).toBe("Ravi");
    expect(await run("create-player", "other@club.test", "--id", "29")).toMatchObject({
      code: 1,
      err: "Player ID 29 is taken",
    });
    expect(await run("create-staff", "P29@club.test")).toMatchObject({
      code: 1,
      err: "An account with email p29@club.test already exists",
    });
    expect((await run("create-player", "next@club.test")).out).toContain("with Player ID 30");
  });

  it("explains bad input with the usage and exit code 2", async () => {
    expect(await run("create-staff", "not-an-email")).toMatchObject({
      code: 2,
      err: "email: Enter a valid email address",
    });
    expect((await run("create-player", "x@club.test", "--id", "abc")).err).toBe(
      "playerId: Player ID must be a number written like 29",
    );
    expect((await run("create-staff", "y@club.test", "--id", "5")).err).toBe("--id is for create-player only");
    expect((await run("make-coffee", "z@club.test")).err).toContain('Unknown command "make-coffee"');
    expect((await run("create-staff")).err).toContain("usage: npm run admin");
    expect((await run("create-staff", "w@club.test", "--password", "short")).err).toBe(
      "password: Passwords are at least 10 characters",
    );
  });

  it("runs as `npm run admin` against a database of its own", { timeout: 120_000 }, async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "floorline-admin-"));
    try {
      const { stdout } = await promisify(execFile)(
        "npm",
        ["run", "--silent", "admin", "--", "create-admin", "a@club.test"],
        {
          env: { ...process.env, DATABASE_URL: "", PGLITE_DATA_DIR: path.join(dir, "db") },
        },
      );
      expect(stdout).toContain("Created admin a@club.test (a).");
      expect(stdout).toMatch(/Temporary password: \S{14} \(must be changed at first sign-in\)/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
