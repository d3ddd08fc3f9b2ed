import "server-only";

import { headers } from "next/headers";
import { redirect } from "next/navigation";
import type { Role } from "@/db/schema";
import { getSession } from "@/server/auth";

/** Server components call this first: anonymous → sign-in, wrong role → "not allowed". */
export async function requireRole(allowed: Role[], path: string) {
  const session = await getSession(await headers());
  if (!session) redirect(`/sign-in?next=${encodeURIComponent(path)}`);
  const role = session.user.role as Role;
  if (!allowed.includes(role)) redirect(`/not-allowed?from=${encodeURIComponent(path)}`);
  return { ...session.user, role };
}

export function homeOf(role: Role) {
  return role === "player" ? "/player" : "/staff";
}
