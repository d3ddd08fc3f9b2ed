import { randomBytes, randomUUID } from "node:crypto";
import { hashPassword, verifyPassword } from "better-auth/crypto";
import { and, asc, eq, sql } from "drizzle-orm";
import type { Db } from "@/db/client";
import { uniqueViolation } from "@/db/errors";
import { account, players, staff, user } from "@/db/schema";
import type { CreateAccountInput } from "@/protocol/inputs";
import type { Auth } from "../auth";
import { ChatError } from "../chat/errors";
import { deactivateUser, reactivateUser } from "../revocation";

/**
 * Accounts without SQL: the admin page and `npm run admin` both call these. Sign-up stays off;
 * an account exists only because an admin (or the CLI on a fresh deployment) made it.
 */

/** Readable once, typed by a person: no look-alike characters. */
function temporaryPassword() {
  const alphabet = "abcdefghjkmnpqrstuvwxyz23456789";
  return Array.from(randomBytes(14), (b) => alphabet[b % alphabet.length]).join("");
}

export type CreatedAccount = {
  userId: string;
  email: string;
  name: string;
  role: CreateAccountInput["role"];
  playerId: number | null;
  /** Set when the password was generated here: shown once, changed at first sign-in. */
  temporaryPassword: string | null;
};

export async function createAccount(
  db: Db,
  input: CreateAccountInput & { mustChangePassword?: boolean },
): Promise<CreatedAccount> {
  if (input.role !== "player" && input.playerId !== undefined) {
    throw new ChatError("BAD_REQUEST", "Only players have a Player ID");
  }
  const generated = input.password ? null : temporaryPassword();
  const passwordHash = await hashPassword(input.password ?? (generated as string));
  const created = await db
    .transaction(async (tx) => {
      const [taken] = await tx.select({ id: user.id }).from(user).where(eq(user.email, input.email));
      if (taken) throw new ChatError("CONFLICT", `An account with email ${input.email} already exists`);
      if (input.playerId !== undefined) {
        const [holder] = await tx.select({ id: players.id }).from(players).where(eq(players.id, input.playerId));
        if (holder) throw new ChatError("CONFLICT", `Player ID ${input.playerId} is taken`);
      }
      const userId = randomUUID();
      await tx.insert(user).values({
        id: userId,
        name: input.name,
        email: input.email,
        emailVerified: true,
        role: input.role,
        mustChangePassword: input.mustChangePassword ?? true,
      });
      await tx
        .insert(account)
        .values({ id: randomUUID(), accountId: userId, providerId: "credential", userId, password: passwordHash });
      let playerId: number | null = null;
      if (input.role === "player") {
        const [row] = await tx
          .insert(players)
          .values({ ...(input.playerId !== undefined ? { id: input.playerId } : {}), userId, displayName: input.name })
          .returning({ id: players.id });
        playerId = row?.id ?? null;
      } else {
        await tx.insert(staff).values({ userId, displayName: input.name });
      }
      return { userId, playerId };
    })
    .catch((err: unknown) => {
      // Two admins (or a double click) creating the same account at once: the unique index decides.
      const constraint = uniqueViolation(err);
      if (constraint === null) throw err;
      if (constraint.includes("email")) {
        throw new ChatError("CONFLICT", `An account with email ${input.email} already exists`);
      }
      // The next free Player ID was taken by an explicit one at the same moment: a retry gets another.
      throw new ChatError(
        "CONFLICT",
        input.playerId !== undefined ? `Player ID ${input.playerId} is taken` : "Player IDs moved meanwhile; try again",
      );
    });
  if (input.playerId !== undefined) await movePlayerSerialPast(db);
  return {
    userId: created.userId,
    email: input.email,
    name: input.name,
    role: input.role,
    playerId: created.playerId,
    temporaryPassword: generated,
  };
}

/** An explicit Player ID leaves the serial behind; move it past so "next free" never collides. */
export async function movePlayerSerialPast(db: Db) {
  await db.execute(
    sql`select setval(pg_get_serial_sequence('players', 'id'), greatest((select max(id) from players), 1))`,
  );
}

export async function listAccounts(db: Db) {
  return db
    .select({
      userId: user.id,
      email: user.email,
      name: user.name,
      role: user.role,
      mustChangePassword: user.mustChangePassword,
      deactivatedAt: user.deactivatedAt,
      playerId: players.id,
      maxConcurrentChats: staff.maxConcurrentChats,
      acceptingChats: staff.acceptingChats,
    })
    .from(user)
    .leftJoin(players, eq(players.userId, user.id))
    .leftJoin(staff, eq(staff.userId, user.id))
    .orderBy(asc(user.role), asc(user.email));
}

export async function setCapacity(db: Db, input: { userId: string; maxConcurrentChats: number }) {
  const [row] = await db
    .update(staff)
    .set({ maxConcurrentChats: input.maxConcurrentChats })
    .where(eq(staff.userId, input.userId))
    .returning();
  if (!row) throw new ChatError("NOT_FOUND", "No such staff member");
  return row;
}

/** The signed-in user replaces their password (required after an admin set a temporary one). */
export async function changeOwnPassword(
  db: Db,
  input: { userId: string; currentPassword: string; newPassword: string },
) {
  const [credential] = await db
    .select({ id: account.id, hash: account.password })
    .from(account)
    .where(and(eq(account.userId, input.userId), eq(account.providerId, "credential")));
  if (!credential?.hash || !(await verifyPassword({ hash: credential.hash, password: input.currentPassword }))) {
    throw new ChatError("BAD_REQUEST", "The current password is wrong");
  }
  if (input.currentPassword === input.newPassword) {
    throw new ChatError("BAD_REQUEST", "Choose a new password, not the temporary one");
  }
  await db.transaction(async (tx) => {
    await tx
      .update(account)
      .set({ password: await hashPassword(input.newPassword), updatedAt: new Date() })
      .where(eq(account.id, credential.id));
    await tx.update(user).set({ mustChangePassword: false, updatedAt: new Date() }).where(eq(user.id, input.userId));
  });
  return { changed: true };
}

export async function mustChangePassword(db: Db, userId: string) {
  const [row] = await db.select({ must: user.mustChangePassword }).from(user).where(eq(user.id, userId));
  return row?.must ?? false;
}

/**
 * Deactivation through main's revocation (server/revocation.ts): the account cannot sign in and
 * every session it has ends now, with its live connections. Reactivation lets it sign in again.
 * An admin cannot deactivate themselves (the page would lock its only admin out).
 */
export async function setDeactivated(
  deps: { db: Db; auth: Auth },
  input: { userId: string; deactivated: boolean; byUserId?: string },
) {
  if (input.deactivated && input.byUserId === input.userId) {
    throw new ChatError("BAD_REQUEST", "You cannot deactivate your own account");
  }
  const [row] = await deps.db.select({ id: user.id }).from(user).where(eq(user.id, input.userId));
  if (!row) throw new ChatError("NOT_FOUND", "No such account");
  if (input.deactivated) await deactivateUser(deps, input.userId);
  else await reactivateUser(deps.db, input.userId);
  const [after] = await deps.db
    .select({ userId: user.id, email: user.email, deactivatedAt: user.deactivatedAt })
    .from(user)
    .where(eq(user.id, input.userId));
  return after;
}

export async function userIdByEmail(db: Db, email: string) {
  const [row] = await db.select({ id: user.id }).from(user).where(eq(user.email, email.toLowerCase()));
  return row?.id ?? null;
}
