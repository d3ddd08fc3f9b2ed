import { randomUUID } from "node:crypto";
import { hashPassword } from "better-auth/crypto";
import type { Db } from "@/db/client";
import { account, players, user } from "@/db/schema";
import type { Stack } from "../tests/support/stack";
import { request, type Session } from "./path";

/**
 * `count` new players on a private stack, each signed in through /api/auth/sign-in/email: the
 * cookies the profiling and CPU-per-request scripts send with.
 */
export async function signedInPlayers(stack: Stack, db: Db, count: number, prefix: string): Promise<Session[]> {
  const password = `${prefix}-password`;
  const hash = await hashPassword(password);
  const sessions: Session[] = [];
  for (let i = 0; i < count; i++) {
    const id = randomUUID();
    const email = `${prefix}-${i}@floorline.test`;
    await db.insert(user).values({ id, name: `P ${i}`, email, emailVerified: true, role: "player" });
    await db
      .insert(account)
      .values({ id: randomUUID(), accountId: id, providerId: "credential", userId: id, password: hash });
    await db.insert(players).values({ userId: id, displayName: `P ${i}` });
    const res = await request(`${stack.url}/api/auth/sign-in/email`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: stack.url },
      body: JSON.stringify({ email, password }),
    });
    if (res.status !== 200) throw new Error(`sign-in ${email}: HTTP ${res.status} ${res.body}`);
    const cookies = ([] as string[]).concat(res.headers["set-cookie"] ?? []);
    sessions.push({ cookie: cookies.map((c) => c.split(";")[0]).join("; ") });
  }
  return sessions;
}
