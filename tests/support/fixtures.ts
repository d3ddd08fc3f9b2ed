import { randomUUID } from "node:crypto";
import type { Db } from "@/db/client";
import { players, staff, user } from "@/db/schema";
import type { ContextUser } from "@/server/trpc/init";
import { createCaller } from "@/server/trpc/root";

let counter = 0;

export async function makePlayer(db: Db, name = `Player ${++counter}`) {
  const u = await makeUser(db, name, "player");
  const [player] = await db.insert(players).values({ userId: u.id, displayName: name, balance: "2000.00" }).returning();
  if (!player) throw new Error("no player row");
  return { user: u, player, caller: createCaller({ db, user: u }) };
}

export async function makeStaff(db: Db, name = `Staff ${++counter}`) {
  const u = await makeUser(db, name, "staff");
  const [member] = await db.insert(staff).values({ userId: u.id, displayName: name }).returning();
  if (!member) throw new Error("no staff row");
  return { user: u, staff: member, caller: createCaller({ db, user: u }) };
}

async function makeUser(db: Db, name: string, role: ContextUser["role"]): Promise<ContextUser> {
  const id = randomUUID();
  const email = `${id}@test.floorline`;
  await db.insert(user).values({ id, name, email, role });
  return { id, name, email, role };
}
