import "server-only";

import { headers } from "next/headers";
import { redirect } from "next/navigation";
import type { Role } from "@/db/schema";
import { mustChangePassword } from "@/server/admin/accounts";
import { getSession } from "@/server/auth";
import { getDb } from "@/server/db";

export const CHANGE_PASSWORD_PATH = "/account/password";

/** Server components call this first: anonymous → sign-in, wrong role → "not allowed". */
export async function requireRole(allowed: Role[], path: string) {
  const session = await getSession(await headers());
  if (!session) redirect(`/sign-in?next=${encodeURIComponent(path)}`);
  const role = session.user.role as Role;
  if (!allowed.includes(role)) redirect(`/not-allowed?from=${encodeURIComponent(path)}`);
  // From the database, not the session cookie cache: that would say "must change" for a minute after.
  if (path !== CHANGE_PASSWORD_PATH && (await mustChangePassword((await getDb()).db, session.user.id))) {
    redirect(`${CHANGE_PASSWORD_PATH}?next=${encodeURIComponent(path)}`);
  }
  return { ...session.user, role };
}

export function homeOf(role: Role) {
  return role === "player" ? "/player" : role === "admin" ? "/admin" : "/staff";
}
