import Link from "next/link";
import { requireRole } from "../../../_auth/guards";
import { HydrateClient, prefetch, trpc } from "../../../_trpc/server";
import { MetricsView } from "./metrics-view";

export const metadata = { title: "Metrics · Floorline staff" };

export default async function MetricsPage() {
  await requireRole(["staff", "admin"], "/staff/metrics");
  await prefetch(trpc.staff.metrics.queryOptions());
  return (
    <HydrateClient>
      <main className="admin-page stack">
        <header className="row">
          <h1>Floor metrics</h1>
          <Link href="/staff">Queue</Link>
        </header>
        <MetricsView />
      </main>
    </HydrateClient>
  );
}
