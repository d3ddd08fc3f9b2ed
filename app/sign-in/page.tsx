import { headers } from "next/headers";
import { redirect } from "next/navigation";
import type { Role } from "@/db/schema";
import { getSession } from "@/server/auth";
import { homeOf } from "../_auth/guards";
import { sameSiteNext } from "../_auth/next-path";
import { SignInForm } from "./sign-in-form";

export default async function SignInPage({
  searchParams,
}: {
  searchParams: Promise<{ next?: string; ended?: string }>;
}) {
  const { next, ended } = await searchParams;
  const session = await getSession(await headers());
  if (session) redirect(homeOf(session.user.role as Role));
  // Only same-site paths: an open redirect would let a link send players anywhere.
  const safeNext = sameSiteNext(next);
  return (
    <main className="centered-page">
      <h1>Floorline</h1>
      <p className="muted">Sign in to chat with the floor team, or to answer players.</p>
      {ended !== undefined && (
        <p role="status">You were signed out (in another tab, or by the club). Sign in again to continue.</p>
      )}
      <SignInForm next={safeNext} />
    </main>
  );
}
