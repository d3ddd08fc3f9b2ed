import { randomUUID } from "node:crypto";
import type { Db } from "@/db/client";
import { players, staff, user } from "@/db/schema";
import type { ChatDeps } from "@/server/chat/actions";
import { type ContextUser, createContextInner } from "@/server/trpc/init";
import { createCaller } from "@/server/trpc/root";

let counter = 0;

type Extras = Partial<Omit<ChatDeps, "db">>;

export const callerFor = (db: Db, user: ContextUser | null, extras: Extras = {}) =>
  createCaller(createContextInner({ db, user, ...extras }));

export async function makePlayer(db: Db, name = `Player ${++counter}`, extras: Extras = {}) {
  const u = await makeUser(db, name, "player");
  const [player] = await db.insert(players).values({ userId: u.id, displayName: name, balance: "2000.00" }).returning();
  if (!player) throw new Error("no player row");
  return { user: u, player, caller: callerFor(db, u, extras) };
}

export async function makeStaff(db: Db, name = `Staff ${++counter}`, extras: Extras = {}) {
  const u = await makeUser(db, name, "staff");
  const [member] = await db.insert(staff).values({ userId: u.id, displayName: name }).returning();
  if (!member) throw new Error("no staff row");
  return { user: u, staff: member, caller: callerFor(db, u, extras) };
}

async function makeUser(db: Db, name: string, role: ContextUser["role"]): Promise<ContextUser> {
  const id = randomUUID();
  const email = `${id}@test.floorline`;
  await db.insert(user).values({ id, name, email, role });
  return { id, name, email, role };
}
