import Link from "next/link";
import { requireRole } from "../_auth/guards";
import { SignOutButton } from "../_auth/sign-out-button";
import { HydrateClient, prefetch, trpc } from "../_trpc/server";
import { AccountsPanel } from "./accounts-panel";
import { CannedRepliesPanel } from "./canned-replies-panel";

export const metadata = { title: "Admin · Floorline" };

export default async function AdminPage() {
  await requireRole(["admin"], "/admin");
  await Promise.all([prefetch(trpc.admin.accounts.queryOptions()), prefetch(trpc.staff.cannedReplies.queryOptions())]);
  return (
    <HydrateClient>
      <main className="admin-page stack">
        <header className="row">
          <h1>Floorline admin</h1>
          <nav className="row">
            <Link href="/staff">Queue</Link>
            <Link href="/staff/metrics">Metrics</Link>
            <SignOutButton />
          </nav>
        </header>
        <AccountsPanel />
        <CannedRepliesPanel />
      </main>
    </HydrateClient>
  );
}
