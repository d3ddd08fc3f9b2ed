import { CHANGE_PASSWORD_PATH, requireRole } from "../../_auth/guards";
import { sameSiteNext } from "../../_auth/next-path";
import { ChangePasswordForm } from "./change-password-form";

export const metadata = { title: "Choose a password · Floorline" };

export default async function ChangePasswordPage({ searchParams }: { searchParams: Promise<{ next?: string }> }) {
  await requireRole(["player", "staff", "admin"], CHANGE_PASSWORD_PATH);
  const { next } = await searchParams;
  // Only same-site paths: an open redirect would let a link send people anywhere.
  const safeNext = sameSiteNext(next) ?? "/";
  return (
    <main className="centered-page">
      <h1>Choose your password</h1>
      <p className="muted">Your account was set up with a temporary password. Replace it to continue.</p>
      <ChangePasswordForm next={safeNext} />
    </main>
  );
}
