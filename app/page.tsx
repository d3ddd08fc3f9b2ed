import { headers } from "next/headers";
import { redirect } from "next/navigation";
import type { Role } from "@/db/schema";
import { getSession } from "@/server/auth";
import { homeOf } from "./_auth/guards";

export default async function Home() {
  const session = await getSession(await headers());
  redirect(session ? homeOf(session.user.role as Role) : "/sign-in");
}
