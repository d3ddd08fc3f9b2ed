import { randomUUID } from "node:crypto";
import { hashPassword } from "better-auth/crypto";
import type { Db } from "@/db/client";
import { account, players, staff, user } from "@/db/schema";
import { claimRequest } from "@/server/chat/assignment";
import { sendPlayerMessage } from "@/server/chat/send";
import type { Stack } from "../tests/support/stack";
import { request, type Session } from "./path";

export type SignedIn = Session & { userId: string; displayName: string };

/**
 * `count` new players on a private stack, each signed in through /api/auth/sign-in/email: the
 * cookies the profiling and CPU-per-request scripts send with.
 */
export function signedInPlayers(stack: Stack, db: Db, count: number, prefix: string): Promise<SignedIn[]> {
  return signedIn(stack, db, count, prefix, "player", async (userId, name) => {
    await db.insert(players).values({ userId, displayName: name });
  });
}

/** The same for staff members (each with room for `maxConcurrentChats`). */
export function signedInStaff(
  stack: Stack,
  db: Db,
  count: number,
  prefix: string,
  maxConcurrentChats = 5,
): Promise<SignedIn[]> {
  return signedIn(stack, db, count, prefix, "staff", async (userId, name) => {
    await db.insert(staff).values({ userId, displayName: name, maxConcurrentChats });
  });
}

/**
 * One signed-in player with an open chat that one signed-in staff member holds: what a lone send
 * (and its reply) needs. `request` is the chat.
 */
export async function playerWithHeldChat(stack: Stack, db: Db, prefix: string) {
  const [player] = await signedInPlayers(stack, db, 1, prefix);
  const [member] = await signedInStaff(stack, db, 1, `${prefix}-staff`);
  if (!player || !member) throw new Error("no accounts");
  const opened = await sendPlayerMessage(db, { id: randomUUID(), text: "help", player });
  await claimRequest(db, { requestId: opened.request.id, staff: member });
  return { player, member, request: opened.request };
}

async function signedIn(
  stack: Stack,
  db: Db,
  count: number,
  prefix: string,
  role: "player" | "staff",
  record: (userId: string, name: string) => Promise<void>,
) {
  const password = `${prefix}-password`;
  const hash = await hashPassword(password);
  const sessions: SignedIn[] = [];
  for (let i = 0; i < count; i++) {
    const id = randomUUID();
    const name = `${role === "player" ? "P" : "S"} ${i}`;
    const email = `${prefix}-${i}@floorline.test`;
    await db.insert(user).values({ id, name, email, emailVerified: true, role });
    await db
      .insert(account)
      .values({ id: randomUUID(), accountId: id, providerId: "credential", userId: id, password: hash });
    await record(id, name);
    const res = await request(`${stack.url}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: stack.url },
      body: JSON.stringify({ email, password }),
    });
    if (res.status !== 200) throw new Error(`sign-in ${email}: HTTP ${res.status} ${res.body}`);
    const cookies = ([] as string[]).concat(res.headers["set-cookie"] ?? []);
    sessions.push({ cookie: cookies.map((c) => c.split(";")[0]).join("; "), userId: id, displayName: name });
  }
  return sessions;
}
