import Link from "next/link";
import { SignOutButton } from "../_auth/sign-out-button";

export default async function NotAllowed({ searchParams }: { searchParams: Promise<{ from?: string }> }) {
  const { from } = await searchParams;
  const portal = from?.startsWith("/staff")
    ? "the staff portal"
    : from?.startsWith("/player")
      ? "the player portal"
      : "that page";
  return (
    <main className="centered-page">
      <h1>Not allowed</h1>
      <p>Your account cannot open {portal}. Sign in with another account, or go back to your own portal.</p>
      <p className="row">
        <Link href="/">Go to my portal</Link>
        <SignOutButton />
      </p>
    </main>
  );
}
