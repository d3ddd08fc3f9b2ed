import { hashPassword } from "better-auth/crypto";
import { eq, sql } from "drizzle-orm";
import type { Db } from "./client";
import { account, players, staff, user } from "./schema";

export const DEMO_PASSWORD = "floorline-demo";

type DemoAccount =
  | { role: "staff" | "admin"; email: string; name: string }
  | { role: "player"; email: string; name: string; playerId: number; balance: string; creditLimit: string };

export const demoAccounts: DemoAccount[] = [
  { role: "admin", email: "admin@floorline.test", name: "Priya (admin)" },
  { role: "staff", email: "asha@floorline.test", name: "Asha (floor)" },
  { role: "staff", email: "vikram@floorline.test", name: "Vikram (floor)" },
  {
    role: "player",
    email: "player29@floorline.test",
    name: "Ravi Kumar",
    playerId: 29,
    balance: "2000.00",
    creditLimit: "5000.00",
  },
  {
    role: "player",
    email: "player30@floorline.test",
    name: "Meera Shah",
    playerId: 30,
    balance: "750.00",
    creditLimit: "1000.00",
  },
  {
    role: "player",
    email: "player31@floorline.test",
    name: "Arjun Rao",
    playerId: 31,
    balance: "0.00",
    creditLimit: "0.00",
  },
];

/**
 * An admin, two staff and three players (Player ID 29 has ₹2,000). Safe to run again: accounts that
 * exist are left as they are. Returns how many accounts it created.
 */
export async function seedDemoData(db: Db): Promise<number> {
  const passwordHash = await hashPassword(DEMO_PASSWORD);
  let created = 0;
  for (const demo of demoAccounts) {
    const made = await db.transaction(async (tx) => {
      const [exists] = await tx.select({ id: user.id }).from(user).where(eq(user.email, demo.email));
      if (exists) return false;
      const userId = crypto.randomUUID();
      await tx
        .insert(user)
        .values({ id: userId, name: demo.name, email: demo.email, emailVerified: true, role: demo.role });
      await tx.insert(account).values({
        id: crypto.randomUUID(),
        accountId: userId,
        providerId: "credential",
        userId,
        password: passwordHash,
      });
      if (demo.role !== "player") {
        // The admin takes over stuck chats but is not handed new ones.
        await tx.insert(staff).values({ userId, displayName: demo.name, acceptingChats: demo.role === "staff" });
      } else {
        await tx.insert(players).values({
          id: demo.playerId,
          userId,
          displayName: demo.name,
          balance: demo.balance,
          creditLimit: demo.creditLimit,
        });
      }
      return true;
    });
    if (made) created++;
  }
  // Explicit Player IDs leave the serial behind; move it past them so new players don't collide.
  await db.execute(
    sql`select setval(pg_get_serial_sequence('players', 'id'), greatest((select max(id) from players), 1))`,
  );
  return created;
}
